"""``edgecpm::cached_attention`` as a one-op ExecuTorch program run by the C++ kernel
(runtime_kernels/src/cached_attention.cpp), against the Python reference, for every ISA here.

The program keeps its KV cache as a mutable buffer across calls, as the model does: a prefill
chunk, then decode steps that read what the chunk wrote, then a tree-masked verify call. fp32;
the kernel sums in another order with an online softmax (SIMD: polynomial exp), so outputs
agree to rounding: <= 2e-5 absolute with unit-variance values.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import edgecpm.attention.cached_attention  # noqa: F401  registers the op
from edgecpm.attention.cached_attention import cached_attention_reference
from edgecpm.model.minicpm import MiniCPMForCausalLM
from edgecpm.model.presets import PRESETS
from edgecpm.runtime.kernel_library import set_kernel_isa

B, HQ, HKV, S = 1, 8, 2, 160  # S past two 64-slot segments


class OneOp(nn.Module):
    def __init__(self, d: int):
        super().__init__()
        self.register_buffer("k_cache", torch.zeros(B, HKV, S, d), persistent=False)
        self.register_buffer("v_cache", torch.zeros(B, HKV, S, d), persistent=False)

    def forward(self, q, k, v, cos, sin, pos, mask):
        return torch.ops.edgecpm.cached_attention(q, k, v, self.k_cache, self.v_cache, cos, sin, pos, mask)


class OneOpCausal(OneOp):
    def forward(self, q, k, v, cos, sin, pos):
        return torch.ops.edgecpm.cached_attention(q, k, v, self.k_cache, self.v_cache, cos, sin, pos, None)


def load(module: nn.Module, example: tuple):
    from executorch.exir import to_edge_transform_and_lower
    from executorch.runtime import Runtime

    t = torch.export.Dim("t", min=1, max=S)
    dims = ({1: t}, {1: t}, {1: t}, {0: t}, {0: t}, {0: t}) + (({0: t},) if len(example) == 7 else ())
    ep = torch.export.export(module, example, dynamic_shapes=dims, strict=False)
    prog = Runtime.get().load_program(to_edge_transform_and_lower(ep).to_executorch().buffer)
    return prog, prog.load_method("forward")  # the method borrows the program's memory


def step(g: torch.Generator, slots: list[int], d: int):
    t = len(slots)
    angles = torch.rand(t, d // 2, generator=g) * 6
    cos, sin = torch.cat([angles.cos()] * 2, -1), torch.cat([angles.sin()] * 2, -1)
    return (torch.randn(B, t, HQ, d, generator=g), torch.randn(B, t, HKV, d, generator=g),
            torch.randn(B, t, HKV, d, generator=g), cos, sin, torch.tensor(slots))


@pytest.mark.parametrize("d", [64, 36])
def test_prefill_then_decode_matches_reference_on_every_isa(lib, d):
    g = torch.Generator().manual_seed(d)
    # A chunk across the first segment boundary, then single tokens, one far ahead (slot reuse).
    calls = [step(g, list(range(0, 70)), d), step(g, [70], d), step(g, [71], d), step(g, list(range(72, 75)), d)]
    ref = OneOpCausal(d)
    expected = [ref(*c).clone() for c in calls]
    for isa in lib.edgecpm_kernels_available().decode().split(","):
        set_kernel_isa(isa, lib)
        _, method = load(OneOpCausal(d), calls[0])
        for i, (c, want) in enumerate(zip(calls, expected)):
            got = method.execute(list(c))[0]
            assert got.shape == want.shape
            assert (got - want).abs().max().item() < 2e-5, f"{isa}: call {i}"


def test_tree_mask_matches_reference(lib):
    """Verify-style call: tokens in slots 40..43 at rope positions of a tree, each reading the
    prefix 0..39 and its ancestors only (runs of visible slots, not a causal range)."""
    d = 32
    g = torch.Generator().manual_seed(1)
    prefill = step(g, list(range(40)), d)
    tree = step(g, [40, 41, 42, 43], d)
    mask = torch.zeros(4, S, dtype=torch.bool)
    mask[:, :40] = True
    for row, ancestors in enumerate([[40], [40, 41], [40, 42], [40, 42, 43]]):
        mask[row, ancestors] = True
    ref = OneOp(d)
    want_prefill = ref(*prefill, None).clone()
    want = ref(*tree, mask)
    for isa in lib.edgecpm_kernels_available().decode().split(","):
        set_kernel_isa(isa, lib)
        _, method = load(OneOp(d), (*tree, mask))
        full_causal = torch.arange(S)[None, :] <= prefill[5][:, None]
        assert (method.execute([*prefill, full_causal])[0] - want_prefill).abs().max().item() < 2e-5, isa
        assert (method.execute([*tree, mask])[0] - want).abs().max().item() < 2e-5, isa


def test_cache_written_in_place_by_reference():
    """The eager op writes the rotated k (and plain v) into the caller's cache tensors."""
    d = 16
    g = torch.Generator().manual_seed(2)
    q, k, v, cos, sin, pos = step(g, [3, 4], d)
    k_cache, v_cache = torch.zeros(B, HKV, S, d), torch.zeros(B, HKV, S, d)
    cached_attention_reference(q, k, v, k_cache, v_cache, cos, sin, pos, None)
    assert torch.equal(v_cache[:, :, 3:5], v.transpose(1, 2))
    assert k_cache[:, :, 3:5].abs().sum() > 0 and k_cache[:, :, 5:].abs().sum() == 0


def test_exported_model_has_no_cache_copies_or_gqa_repeat():
    """What the op is for: no whole-cache index_put/copy_, no expand_copy of K/V in the program."""
    import copy

    from executorch.exir import to_edge_transform_and_lower

    cfg = copy.deepcopy(PRESETS["tiny"])
    cfg.num_hidden_layers = 1
    model = MiniCPMForCausalLM(cfg).eval().requires_grad_(False)
    model.setup_caches(64)
    seq = torch.export.Dim("seq", min=1, max=64)
    ep = torch.export.export(model, (torch.tensor([[1, 2]]), torch.arange(2)), dynamic_shapes=({1: seq}, {0: seq}),
                             strict=False)
    program = to_edge_transform_and_lower(ep).to_executorch().executorch_program
    plan = program.execution_plan[0]
    names = {op.name for op in plan.operators}
    assert "edgecpm::cached_attention" in names
    assert not names & {"aten::index_put", "aten::copy_", "aten::expand_copy"}, names
