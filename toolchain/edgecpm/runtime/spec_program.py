"""Running the speculative-decoding methods of a loaded program (``verify``, ``verify_in_place``,
``draft``; their signatures are in ``edgecpm.export.spec_methods``).

``PteSpecBase`` / ``PteSpecDraft`` put the loaded methods behind the contracts
``speculative_generate`` uses (``protocols.SpeculativeBase`` / ``protocols.SpeculativeDraft``), as
``eager.EagerBase`` and ``EagleDraft.step`` do for an eager model.
"""

from __future__ import annotations

import torch

from edgecpm.errors import UsageError
from edgecpm.export.pte_manifest import PROGRAM
from edgecpm.torch_env import execute_single_threaded, program_errors


class _ProgramMethod:
    """One loaded method of a program and what both sides keep: the model's config, the cache
    length, the rows per call, the program file (named if ExecuTorch fails)."""

    def __init__(self, program, name: str, config, max_seq_len: int, chunk: int, source):
        self._method = program.load_method(name)
        self.config = config
        self.max_seq_len = max_seq_len
        self.chunk = chunk
        self.source = source
        self.positions = torch.arange(max_seq_len)

    def _defaults(self, input_pos, cache_pos, attn_mask):
        """The methods take slots and mask explicitly; absent, they are the eager model's defaults:
        slots = positions, causal by position (stale slots beyond are masked)."""
        cache_pos = input_pos if cache_pos is None else cache_pos
        if attn_mask is None:
            attn_mask = input_pos.unsqueeze(1) >= self.positions.unsqueeze(0)
        return cache_pos, attn_mask

    def _run_chunked(self, n: int, args_for) -> tuple[torch.Tensor, torch.Tensor]:
        """Run over rows [a, b) of at most ``chunk`` rows (``args_for(a, b)`` gives the method to
        call and its inputs); the two outputs [1, rows, ...] concatenated, batch dim dropped."""
        first, second = [], []
        for a in range(0, n, self.chunk):
            method, args = args_for(a, min(n, a + self.chunk))
            with program_errors(self.source):
                x, y = execute_single_threaded(method, [t.contiguous() for t in args])
            first.append(x[0])
            second.append(y[0])
        return torch.cat(first), torch.cat(second)


_NO_MOVE = (torch.zeros(1, dtype=torch.long), torch.zeros(1, dtype=torch.long))


class PteSpecBase(_ProgramMethod):
    """The base side (``verify``, and ``verify_in_place`` when nothing moves and the program has
    it) of a loaded program, with ``EagerBase``'s contract."""

    def __init__(self, program, config, max_seq_len: int, chunk: int, source="the program",
                 in_place: bool = False):
        super().__init__(program, "verify", config, max_seq_len, chunk, source)
        self._in_place = program.load_method("verify_in_place") if in_place else None
        self.reset_caches()

    def reset_caches(self):
        # Stale slots are masked by position; only a pending move is forgotten.
        self._moves = None

    def compact_caches(self, src, dst):
        # Deferred: the next verify call moves the slots before its forward.
        self._moves = (src.long(), dst.long())

    def _call(self, rows: list):
        """The method for the next call and its inputs: a pending move goes with it (only with the
        first chunk of a call; later chunks see the compacted cache)."""
        moves, self._moves = self._moves, None
        if moves is None and self._in_place is not None:
            return self._in_place, rows
        return self._method, rows + list(moves or _NO_MOVE)

    def verify(self, tokens, input_pos, cache_pos=None, attn_mask=None):
        cache_pos, attn_mask = self._defaults(input_pos, cache_pos, attn_mask)
        return self._run_chunked(tokens.numel(), lambda a, b: self._call(
            [tokens[a:b].view(1, -1), input_pos[a:b], cache_pos[a:b], attn_mask[a:b]]))


class PteSpecDraft(_ProgramMethod):
    """The ``draft`` method of a loaded program, with ``EagleDraft.step``'s contract."""

    def __init__(self, program, config, max_seq_len: int, chunk: int, vocab_ids: list[int] | None,
                 source="the program"):
        super().__init__(program, "draft", config, max_seq_len, chunk, source)
        self.vocab_ids = None if vocab_ids is None else torch.tensor(vocab_ids, dtype=torch.long)

    def reset_cache(self):
        pass   # stale draft slots are masked by position, as in the base cache

    def step(self, tokens, hidden, input_pos, cache_pos=None, attn_mask=None):
        cache_pos, attn_mask = self._defaults(input_pos, cache_pos, attn_mask)
        return self._run_chunked(tokens.numel(), lambda a, b: (self._method, [
            tokens[a:b].view(1, -1), hidden[a:b].unsqueeze(0), input_pos[a:b], cache_pos[a:b], attn_mask[a:b]]))

    def to_full_ids(self, ids):
        return ids if self.vocab_ids is None else self.vocab_ids[ids]


def load_pte_spec(bundle):
    """(base, draft) for ``speculative_generate`` from a loaded ``PteModel`` bundle."""
    info = bundle.manifest.get("speculative")
    if info is None:
        raise UsageError(f"{bundle.dir}: this program has no speculative-decoding methods; re-export "
                         "it with `edgecpm export MODEL --draft DRAFT_DIR`")
    program, path = bundle.program, bundle.dir / PROGRAM
    with program_errors(path):
        base = PteSpecBase(program, bundle.config, bundle.max_seq_len, info["chunk"], source=path,
                           in_place="verify_in_place" in info.get("methods", ()))
        return base, PteSpecDraft(program, bundle.config, bundle.max_seq_len, info["chunk"],
                                  info.get("draft_vocab_ids"), source=path)
