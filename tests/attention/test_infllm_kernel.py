"""``edgecpm::infllm_attention`` as a one-op ExecuTorch program run by the C++ kernel
(runtime_kernels/src/infllm_attention.cpp), against the Python reference, for every ISA here.

fp32 throughout; the kernel sums in another order (and its SIMD tables use a polynomial exp), so
outputs agree to rounding: <= 1e-5 absolute with unit-variance values. The block selection must
agree exactly (ties to the lower block index): a different block would move outputs by ~0.1.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import edgecpm.attention.ops  # noqa: F401  registers the op
from edgecpm.attention.infllm_v2 import SparseParams, compress_keys, infllm_attention_reference, select_blocks
from edgecpm.runtime.kernel_library import set_kernel_isa

S, HQ, HKV = 1024, 8, 2
# MiniCPM4's geometry (window 32, stride 16, block 64) with a budget of 6 of up to 16 blocks.
SPARSE = SparseParams(kernel_size=32, kernel_stride=16, block_size=64, init_blocks=1, local_blocks=2, topk=6,
                      dense_len=-1)


class OneOp(nn.Module):
    def __init__(self, params: SparseParams):
        super().__init__()
        self.params = params

    def forward(self, q, k, v, ck, pos):
        return torch.ops.edgecpm.infllm_attention(q, k, v, ck, pos, *self.params.op_args())


def program(params: SparseParams, example: tuple):
    from executorch.exir import to_edge_transform_and_lower
    from executorch.runtime import Runtime

    ep = torch.export.export(OneOp(params), example, strict=False)
    buffer = to_edge_transform_and_lower(ep).to_executorch().buffer
    prog = Runtime.get().load_program(buffer)
    return prog, prog.load_method("forward")  # the method borrows the program's memory


def inputs(seed: int, positions: list[int], d: int, params: SparseParams):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(1, HQ, len(positions), d, generator=g)
    k = torch.randn(1, HKV, S, d, generator=g)
    v = torch.randn(1, HKV, S, d, generator=g)
    ck = compress_keys(k, params.kernel_size, params.kernel_stride)
    ck = torch.cat([ck, torch.zeros(1, HKV, 3, d)], 2)  # C larger than needed, as the model's cache is
    return q, k, v, ck, torch.tensor(positions, dtype=torch.int64)


def run_every_isa(lib, params: SparseParams, args: tuple) -> dict[str, torch.Tensor]:
    prog, method = program(params, args)
    outs = {}
    for isa in lib.edgecpm_kernels_available().decode().split(","):
        set_kernel_isa(isa, lib)
        outs[isa] = method.execute(list(args))[0]
    return outs


CASES = {
    # decode rows: the last slot, a block's first slot, a block's last slot
    "decode p=1023": ([1023], 64, SPARSE),
    "decode p=640": ([640], 64, SPARSE),
    "decode p=767 D=67": ([767], 67, SPARSE),  # D not a multiple of 8 (nor 4)
    # prefill rows straddling a block boundary, plus a far one
    "prefill": ([637, 638, 639, 640, 641, 1000], 64, SPARSE),
    # the switch is per call: reaching 1024 >= 700, rows 100 and 698 are sparse too
    "sparse call": ([100, 698, 699, 700, 1023], 40,
                    SparseParams(32, 16, 64, init_blocks=1, local_blocks=2, topk=6, dense_len=700)),
    # reaching 699 < 700: every row dense, row 697 (11 blocks > topk) included
    "dense call": ([100, 697, 698], 40, SparseParams(32, 16, 64, init_blocks=1, local_blocks=2, topk=6, dense_len=700)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_kernel_equals_reference(lib, name):
    positions, d, params = CASES[name]
    args = inputs(len(name), positions, d, params)
    ref = infllm_attention_reference(*args, params)
    outs = run_every_isa(lib, params, args)
    assert "scalar" in outs
    for isa, got in outs.items():
        assert got.shape == ref.shape
        err = (got - ref).abs().max().item()
        assert err <= 1e-5, f"{isa}: max |kernel - reference| = {err:.3g}"


def test_blocks_are_really_dropped(lib):
    """At p = 1023 only 6 of 16 blocks are read: the answer differs from dense attention, and the
    kernel follows the reference's selection, not dense."""
    args = inputs(7, [1023], 64, SPARSE)
    q, k, v, ck, pos = args
    chosen = select_blocks(q, ck, pos, SPARSE)
    assert chosen.shape[-1] == 16 and bool((chosen.sum(-1) == 6).all())
    dense = infllm_attention_reference(*args, SparseParams(32, 16, 64, 1, 2, topk=16, dense_len=-1))
    ref = infllm_attention_reference(*args, SPARSE)
    assert (ref - dense).abs().max().item() > 0.05
    for isa, got in run_every_isa(lib, SPARSE, args).items():
        assert (got - ref).abs().max().item() <= 1e-5, isa


def test_ties_go_to_the_lower_block(lib):
    """q = 0: every visible window scores the same, so after the forced blocks the lowest
    indices win; the output is then the plain mean of v over the selected slots."""
    args = inputs(11, [1023, 900], 64, SPARSE)
    args = (torch.zeros_like(args[0]),) + args[1:]
    ref = infllm_attention_reference(*args, SPARSE)
    chosen = select_blocks(args[0], args[3], args[4], SPARSE)[0, 0, 0].nonzero().flatten().tolist()
    assert chosen == [0, 1, 2, 13, 14, 15]
    for isa, got in run_every_isa(lib, SPARSE, args).items():
        assert (got - ref).abs().max().item() <= 1e-5, isa


def test_position_outside_the_cache_is_refused(lib):
    args = inputs(3, [5], 64, SPARSE)
    prog, method = program(SPARSE, args)
    with pytest.raises(Exception):
        method.execute(list(args[:4]) + [torch.tensor([S], dtype=torch.int64)])
