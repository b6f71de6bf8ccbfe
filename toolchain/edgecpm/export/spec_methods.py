"""Speculative decoding in an ExecuTorch program: three methods beside ``forward``, and running them.

``edgecpm export MODEL --draft DRAFT_DIR [--frspec FILE]`` adds, in the same ``.pte``:

- ``verify(tokens [1,T], input_pos [T], cache_pos [T], attn_mask [T,S] bool, move_src [M],
  move_dst [M]) -> (hidden [1,T,h], logits [1,T,vocab])``: first copies the base KV-cache slots
  ``move_src`` to ``move_dst`` (the previous step's accepted path; ``[0] -> [0]`` when nothing
  moves), then the base model over the given rope positions, cache slots and tree mask (S is
  ``max_seq_len``). Prefill is a verify with the causal mask.
- ``verify_in_place(tokens [1,T], input_pos [T], cache_pos [T], attn_mask [T,S] bool) -> (hidden,
  logits)``: ``verify`` for a step with nothing to move (every chain step; a tree step whose
  accepted path already lies in contiguous slots), without the move's gather and in-place write
  (``edgecpm::cache_write``) of every layer's K and V.
- ``draft(tokens [1,T], hidden [1,T,h], input_pos [T], cache_pos [T], attn_mask [T,S]) ->
  (hidden [1,T,h], logits [1,T,N])``: the EAGLE draft head with its one-layer KV cache; N is the
  FR-Spec subset's size when the draft had one at export (the ids are in the manifest).

T is at most ``SPEC_CHUNK`` per call (ExecuTorch plans activation memory for the largest call:
a [T, vocab] logits output at T = max_seq_len would dominate it); longer prompts are fed in
chunks. KV caches are planned as shared mutable buffers (``lower_model``): ``verify`` and
``forward`` use the same base cache (same buffer names), the draft its own. The runtime must
give all methods one set of planned arenas (the Python runtime does for host methods; the C++
runner's ``PteProgram`` does the same). Weights are stored once (the emitter dedupes constants).

``edgecpm.runtime.spec_program`` runs ``verify`` and ``draft``; ``edgecpm.speculative.export_methods``
loads the draft head and gives ``export_pte`` these programs.
"""

from __future__ import annotations

import torch

from edgecpm.export.spec_chunk import SPEC_CHUNK

METHODS = ("verify", "verify_in_place", "draft")


class _Verify(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, tokens, input_pos, cache_pos, attn_mask, move_src, move_dst):
        self.model.compact_caches(move_src, move_dst)
        hidden = self.model.hidden_states(tokens, input_pos, cache_pos, attn_mask)
        return hidden, self.model.logits(hidden)


class _VerifyInPlace(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, tokens, input_pos, cache_pos, attn_mask):
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
    """The ``verify``, ``verify_in_place`` and ``draft`` exported programs, for
    ``to_edge_transform_and_lower``."""
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
        in_place = torch.export.export(
            _VerifyInPlace(model), (tokens.clone(), pos.clone(), pos.clone(), mask.clone()),
            dynamic_shapes=({1: seq}, {0: seq}, {0: seq}, {0: seq}), strict=False)
        drafted = torch.export.export(
            _Draft(draft), (tokens.clone(), torch.randn(1, 2, h), pos.clone(), pos.clone(), mask.clone()),
            dynamic_shapes=({1: seq}, {1: seq}, {0: seq}, {0: seq}, {0: seq}), strict=False)
    finally:
        draft._base = bound
    return {"verify": verify, "verify_in_place": in_place, "draft": drafted}
