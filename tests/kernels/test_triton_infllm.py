"""The Triton InfLLM-v2 kernels, run by Triton's interpreter on CPU tensors, against the Python
reference (edgecpm.attention.infllm_v2): the same block selection, exactly (ties to the lower
index), and outputs within 1e-5 (fp32, another summation order). Tiny shapes: the interpreter
runs every program in numpy."""

from __future__ import annotations

import pytest
import torch

from edgecpm.attention.infllm_v2 import SparseParams, compress_keys, infllm_attention_reference, select_blocks

S, HQ, HKV = 160, 6, 2
# A scaled-down geometry (window 8, stride 4, block 16): 10 blocks at S = 160, 4 of them kept.
SMALL = SparseParams(kernel_size=8, kernel_stride=4, block_size=16, init_blocks=1, local_blocks=1, topk=4,
                     dense_len=-1)


def inputs(seed: int, positions: list[int], d: int = 20, params: SparseParams = SMALL, zero_q: bool = False):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(1, HQ, len(positions), d, generator=g)
    if zero_q:
        q.zero_()
    k = torch.randn(1, HKV, S, d, generator=g)
    v = torch.randn(1, HKV, S, d, generator=g)
    ck = torch.cat([compress_keys(k, params.kernel_size, params.kernel_stride), torch.zeros(1, HKV, 2, d)], 2)
    return q, k, v, ck, torch.tensor(positions, dtype=torch.int64)


@pytest.fixture(scope="module")
def kernels(triton_kernels):
    """(select_blocks, infllm_attention) of the Triton module, each run on the kernels' device."""
    module = triton_kernels.module("edgecpm.kernels.triton_infllm")
    return (lambda *a: triton_kernels.run(module.select_blocks, *a),
            lambda *a: triton_kernels.run(module.infllm_attention, *a))


def selection_as_mask(sel: torch.Tensor, n_blocks: int) -> torch.Tensor:
    mask = torch.zeros(*sel.shape[:-1], n_blocks + 1, dtype=torch.bool)
    mask.scatter_(-1, torch.where(sel < 0, n_blocks, sel).long(), True)
    return mask[..., :n_blocks]


@pytest.mark.parametrize("positions", [[159], [47], [3], [62, 63, 64, 65]],
                         ids=["decode-last", "decode-block-end", "before-first-window", "prefill-straddle"])
@pytest.mark.parametrize("zero_q", [False, True], ids=["random", "ties"])
def test_selection_equals_reference(positions, zero_q, kernels):
    q, k, v, ck, pos = inputs(1, positions, zero_q=zero_q)
    sel = kernels[0](q, ck, pos, *SMALL.op_args())
    want = select_blocks(q, ck, pos, SMALL)
    assert torch.equal(selection_as_mask(sel, want.shape[-1]), want)


@pytest.mark.parametrize("positions,d", [([159], 20), ([100], 16), ([62, 63, 64, 65, 159], 20), ([5, 0], 13)])
def test_attention_equals_reference(positions, d, kernels):
    args = inputs(2, positions, d)
    got = kernels[1](*args, *SMALL.op_args())
    ref = infllm_attention_reference(*args, SMALL)
    assert got.shape == ref.shape
    assert (got - ref).abs().max().item() <= 1e-5


def test_blocks_are_really_dropped_and_ties_resolved(kernels):
    args = inputs(3, [159])
    dense = infllm_attention_reference(*args, SparseParams(8, 4, 16, 1, 1, topk=10, dense_len=-1))
    got = kernels[1](*args, *SMALL.op_args())
    assert (got - dense).abs().max().item() > 0.05  # 6 of 10 blocks were not read
    tied = (torch.zeros_like(args[0]),) + args[1:]
    sel = kernels[0](tied[0], tied[3], tied[4], *SMALL.op_args())
    assert sel[0, 0, 0].tolist() == [0, 1, 8, 9]  # init 0, then the lowest tie 1, then local 8 and own 9
    ref = infllm_attention_reference(*tied, SMALL)
    assert (kernels[1](*tied, *SMALL.op_args()) - ref).abs().max().item() <= 1e-5


@pytest.mark.parametrize("positions", [[50, 98, 99, 100, 159],  # reaches 160 >= 100: every row sparse
                                       [50, 97, 98]])  # reaches 99 < 100: every row dense
def test_dense_switch_is_per_call(positions, kernels):
    params = SparseParams(8, 4, 16, init_blocks=1, local_blocks=1, topk=4, dense_len=100)
    args = inputs(4, positions)
    got = kernels[1](*args, *params.op_args())
    assert (got - infllm_attention_reference(*args, params)).abs().max().item() <= 1e-5
