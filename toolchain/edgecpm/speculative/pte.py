"""Speculative decoding in an ExecuTorch program: two methods beside ``forward``, and running them.

``edgecpm export MODEL --draft DRAFT_DIR [--frspec FILE]`` adds, in the same ``.pte``:

- ``verify(tokens [1,T], input_pos [T], cache_pos [T], attn_mask [T,S] bool, move_src [M],
  move_dst [M]) -> (hidden [1,T,h], logits [1,T,vocab])``: first copies the base KV-cache slots
  ``move_src`` to ``move_dst`` (the previous step's accepted path; ``[0] -> [0]`` when nothing
  moves), then the base model over the given rope positions, cache slots and tree mask (S is
  ``max_seq_len``). Prefill is a verify with the causal mask.
- ``draft(tokens [1,T], hidden [1,T,h], input_pos [T], cache_pos [T], attn_mask [T,S]) ->
  (hidden [1,T,h], logits [1,T,N])``: the EAGLE draft head with its one-layer KV cache; N is the
  FR-Spec subset's size when the draft had one at export (the ids are in the manifest).

T is at most ``SPEC_CHUNK`` per call (ExecuTorch plans activation memory for the largest call:
a [T, vocab] logits output at T = max_seq_len would dominate it); longer prompts are fed in
chunks. KV caches are planned as shared mutable buffers (``lower_model``): ``verify`` and
``forward`` use the same base cache (same buffer names), the draft its own. The runtime must
give all methods one set of planned arenas (the Python runtime does for host methods; the C++
runner's ``PteProgram`` does the same). Weights are stored once (the emitter dedupes constants).

``PteSpecBase`` / ``PteSpecDraft`` put the loaded methods behind the contract
``speculative_generate`` uses (``EagerBase`` / ``EagleDraft.step``).
"""

from __future__ import annotations

import torch

from edgecpm.torch_env import execute_single_threaded, program_errors

SPEC_CHUNK = 64
METHODS = ("verify", "draft")


class _Verify(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, tokens, input_pos, cache_pos, attn_mask, move_src, move_dst):
        self.model.compact_caches(move_src, move_dst)
        hidden = self.model.hidden_states(tokens, input_pos, cache_pos, attn_mask)
        return hidden, self.model.logits(hidden)


class _SharedBase(torch.nn.Module):
    """What the draft reads from the base model (embedding, final norm, LM head, rope tables),
    without the base's KV-cache buffers, which the draft method must not carry."""

    def __init__(self, base):
        super().__init__()
        self.model = torch.nn.Module()
        self.model.embed_tokens, self.model.norm = base.model.embed_tokens, base.model.norm
        self.lm_head = base.lm_head
        self.config, self.max_seq_len = base.config, base.max_seq_len
        self.rope = base.rope
        self.register_buffer("positions", base.positions, persistent=False)


class _Draft(torch.nn.Module):
    def __init__(self, draft):
        super().__init__()
        self.draft = draft

    def forward(self, tokens, hidden, input_pos, cache_pos, attn_mask):
        out = self.draft(tokens, hidden, input_pos, cache_pos, attn_mask)
        return out, self.draft.logits(out)


def spec_programs(model, draft, max_seq_len: int) -> dict:
    """The ``verify`` and ``draft`` exported programs, for ``to_edge_transform_and_lower``."""
    for p in list(model.parameters()) + list(draft.parameters()):
        p.requires_grad_(False)   # inference programs: in-place cache writes on non-leaf tensors
    h = model.config.hidden_size
    chunk = min(SPEC_CHUNK, max_seq_len)
    seq = torch.export.Dim("seq", min=1, max=chunk)
    moves = torch.export.Dim("moves", min=1, max=max_seq_len)
    tokens, pos = torch.tensor([[1, 2]]), torch.arange(2)
    mask = pos.unsqueeze(1) >= torch.arange(max_seq_len).unsqueeze(0)
    bound = draft._base
    draft._base = [_SharedBase(model)]
    try:
        # Distinct tensors per input: export ties two arguments given the same object.
        verify = torch.export.export(
            _Verify(model), (tokens, pos, pos.clone(), mask, pos.clone(), pos.clone()),
            dynamic_shapes=({1: seq}, {0: seq}, {0: seq}, {0: seq}, {0: moves}, {0: moves}), strict=False)
        drafted = torch.export.export(
            _Draft(draft), (tokens.clone(), torch.randn(1, 2, h), pos.clone(), pos.clone(), mask.clone()),
            dynamic_shapes=({1: seq}, {1: seq}, {0: seq}, {0: seq}, {0: seq}), strict=False)
    finally:
        draft._base = bound
    return {"verify": verify, "draft": drafted}


def _defaults(input_pos, cache_pos, attn_mask, positions):
    """The methods take slots and mask explicitly; absent, they are the eager model's defaults:
    slots = positions, causal by position (stale slots beyond are masked)."""
    cache_pos = input_pos if cache_pos is None else cache_pos
    if attn_mask is None:
        attn_mask = input_pos.unsqueeze(1) >= positions.unsqueeze(0)
    return cache_pos, attn_mask


def _run_chunked(method, n: int, chunk: int, args_for, source) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``method`` over rows [a, b) of at most ``chunk`` rows (``args_for(a, b)`` gives the
    inputs); its two outputs [1, rows, ...] concatenated over the chunks, batch dim dropped.
    ``source``: the program file, named if ExecuTorch fails."""
    first, second = [], []
    for a in range(0, n, chunk):
        with program_errors(source):
            x, y = execute_single_threaded(method, [t.contiguous() for t in args_for(a, min(n, a + chunk))])
        first.append(x[0])
        second.append(y[0])
    return torch.cat(first), torch.cat(second)


class PteSpecBase:
    """The base side (``verify``) of a loaded program, with ``EagerBase``'s contract."""

    def __init__(self, program, config, max_seq_len: int, chunk: int, source="the program"):
        self._verify = program.load_method("verify")
        self.source = source
        self.config = config
        self.max_seq_len = max_seq_len
        self.chunk = chunk
        self.positions = torch.arange(max_seq_len)
        self.reset_caches()

    def reset_caches(self):
        # Stale slots are masked by position; only a pending move is forgotten.
        self._moves = (torch.zeros(1, dtype=torch.long), torch.zeros(1, dtype=torch.long))

    def compact_caches(self, src, dst):
        # Deferred: the next verify call moves the slots before its forward.
        self._moves = (src.long(), dst.long())

    def _take_moves(self):
        moves = self._moves
        self.reset_caches()
        return moves

    def verify(self, tokens, input_pos, cache_pos=None, attn_mask=None):
        cache_pos, attn_mask = _defaults(input_pos, cache_pos, attn_mask, self.positions)
        return _run_chunked(self._verify, tokens.numel(), self.chunk, lambda a, b: [
            tokens[a:b].view(1, -1), input_pos[a:b], cache_pos[a:b], attn_mask[a:b], *self._take_moves()],
            self.source)


class PteSpecDraft:
    """The ``draft`` method of a loaded program, with ``EagleDraft.step``'s contract."""

    def __init__(self, program, config, max_seq_len: int, chunk: int, vocab_ids: list[int] | None,
                 source="the program"):
        self._draft = program.load_method("draft")
        self.source = source
        self.config = config
        self.max_seq_len = max_seq_len
        self.chunk = chunk
        self.positions = torch.arange(max_seq_len)
        self.vocab_ids = None if vocab_ids is None else torch.tensor(vocab_ids, dtype=torch.long)

    def reset_cache(self):
        pass   # stale draft slots are masked by position, as in the base cache

    def step(self, tokens, hidden, input_pos, cache_pos=None, attn_mask=None):
        cache_pos, attn_mask = _defaults(input_pos, cache_pos, attn_mask, self.positions)
        return _run_chunked(self._draft, tokens.numel(), self.chunk, lambda a, b: [
            tokens[a:b].view(1, -1), hidden[a:b].unsqueeze(0), input_pos[a:b], cache_pos[a:b], attn_mask[a:b]],
            self.source)

    def to_full_ids(self, ids):
        return ids if self.vocab_ids is None else self.vocab_ids[ids]


def draft_methods(model, draft_arg, frspec, max_seq_len: int, say=lambda _msg: None):
    """For ``export_pte(draft=...)``: the speculative methods' programs and the manifest entry."""
    from edgecpm.checksum import file_sha256
    from edgecpm.speculative.draft import WEIGHTS, load_draft, resolve_draft
    from edgecpm.speculative.frspec import load_frspec

    path = resolve_draft(draft_arg)
    draft = load_draft(path, model.config, dtype=torch.float32).bind(model)
    ids = None
    if frspec is not None:
        ids = load_frspec(frspec, model.config.vocab_size).ids
        draft.set_vocab(ids)
    say(f"torch.export of the speculative methods verify + draft (draft {path}"
        f"{f', FR-Spec {ids.numel()} ids' if ids is not None else ''})")
    weights = path / WEIGHTS if path.is_dir() else path
    info = {"methods": list(METHODS), "draft": str(draft_arg), "draft_sha256": file_sha256(weights),
            "chunk": min(SPEC_CHUNK, max_seq_len),
            "draft_vocab_ids": None if ids is None else ids.tolist()}
    return spec_programs(model, draft, max_seq_len), info


def load_pte_spec(bundle):
    """(base, draft) for ``speculative_generate`` from a loaded ``PteModel`` bundle."""
    info = bundle.manifest.get("speculative")
    if info is None:
        from edgecpm.errors import UsageError

        raise UsageError(f"{bundle.dir}: this program has no speculative-decoding methods; re-export "
                         "it with `edgecpm export MODEL --draft DRAFT_DIR`")
    program, path = bundle.program, bundle.dir / "model.pte"
    with program_errors(path):
        base = PteSpecBase(program, bundle.config, bundle.max_seq_len, info["chunk"], source=path)
        return base, PteSpecDraft(program, bundle.config, bundle.max_seq_len, info["chunk"],
                                  info.get("draft_vocab_ids"), source=path)
