"""``edgecpm::infllm_attention``: InfLLM-v2 block-sparse attention, at MiniCPM4's geometry (window 32,
stride 16, block 64; 6 of up to 16 blocks over a 1024-slot cache) and a scaled-down one (window 8,
stride 4, block 16; 4 of 10 blocks over 160 slots) that reaches the edges cheaply: before the first
window, a block's first and last slot, prefill rows straddling a block, D not a multiple of 8, the
per-call dense switch, ties.

The definition is the Python reference (``infllm_attention_reference``) in float64; the magnitude of
an output is the same attention over |v|. A wrong block would move outputs by ~0.1, far outside it.
"""

from __future__ import annotations

import functools

import pytest
import torch

from edgecpm.attention.infllm_v2 import SparseParams, infllm_attention_reference, select_blocks
from tests.ops.implementations import OpCalls, Triton
from tests.ops.inputs import attention_inputs
from tests.ops.tolerance import assert_within_rounding

MINICPM4 = SparseParams(kernel_size=32, kernel_stride=16, block_size=64, init_blocks=1, local_blocks=2, topk=6,
                        dense_len=-1)
SWITCH = SparseParams(32, 16, 64, init_blocks=1, local_blocks=2, topk=6, dense_len=700)
SMALL = SparseParams(kernel_size=8, kernel_stride=4, block_size=16, init_blocks=1, local_blocks=1, topk=4,
                     dense_len=-1)

# name -> (positions, head dim, params, cache slots)
CASES = {
    "decode last slot": ([1023], 64, MINICPM4, 1024),
    "decode block start": ([640], 64, MINICPM4, 1024),
    "decode D=67": ([767], 67, MINICPM4, 1024),
    "prefill straddling a block": ([637, 638, 639, 640, 641, 1000], 64, MINICPM4, 1024),
    # reaching 1024 >= 700: the whole call is sparse, rows 100 and 698 included
    "sparse call": ([100, 698, 699, 700, 1023], 40, SWITCH, 1024),
    # reaching 699 < 700: every row dense, row 697 (11 blocks > topk) included
    "dense call": ([100, 697, 698], 40, SWITCH, 1024),
    "small decode last": ([159], 20, SMALL, 160),
    "small block end": ([47], 20, SMALL, 160),
    "small before the first window": ([3], 20, SMALL, 160),
    "small prefill": ([62, 63, 64, 65, 159], 20, SMALL, 160),
    "small D=13 rows out of order": ([5, 0], 13, SMALL, 160),
}


def calls_for(args: tuple, params: SparseParams) -> OpCalls:
    return OpCalls("infllm_attention", [(*args, *params.op_args())], varying=(0, 1, 2, 3, 4), dynamic={})


@functools.cache
def case(name: str, zero_q: bool = False):
    positions, d, params, cache = CASES[name]
    args = attention_inputs(len(name), positions, d, params, cache, zero_q=zero_q)
    return calls_for(args, params), params


def definition(args: tuple, params: SparseParams) -> tuple[torch.Tensor, torch.Tensor]:
    q, k, v, ck, pos = (a.double() if a.is_floating_point() else a for a in args)
    return (infllm_attention_reference(q, k, v, ck, pos, params),
            infllm_attention_reference(q, k, v.abs(), ck, pos, params))


@pytest.mark.parametrize("name", list(CASES))
def test_equals_definition(run, name, impl):
    calls, params = case(name)
    (out,) = run(calls)
    assert out.dtype == torch.float32
    assert_within_rounding(out, *definition(calls.calls[0][:5], params), f"{impl.name} {name}")


def test_blocks_are_really_dropped(run, impl):
    """At p = 1023 only 6 of 16 blocks are read: the answer differs from dense attention by far more
    than the tolerance, so following the selection is what the comparison checks."""
    calls, params = case("decode last slot")
    args = calls.calls[0][:5]
    chosen = select_blocks(args[0], args[3], args[4], params)
    assert chosen.shape[-1] == 16 and bool((chosen.sum(-1) == 6).all())
    dense = infllm_attention_reference(*args, SparseParams(32, 16, 64, 1, 2, topk=16, dense_len=-1))
    (out,) = run(calls)
    assert (out - dense).abs().max().item() > 0.05
    assert_within_rounding(out, *definition(args, params), impl.name)


@pytest.mark.parametrize("name,chosen", [("decode last slot", [0, 1, 2, 13, 14, 15]),
                                         ("small decode last", [0, 1, 8, 9])])
def test_ties_go_to_the_lower_block(run, name, chosen, impl):
    """q = 0: every visible window scores the same, so after the forced blocks (init, local, own)
    the lowest indices win; the output is then the plain mean of v over the selected slots."""
    calls, params = case(name, zero_q=True)
    args = calls.calls[0][:5]
    assert select_blocks(args[0], args[3], args[4], params)[0, 0, 0].nonzero().flatten().tolist() == chosen
    (out,) = run(calls)
    assert_within_rounding(out, *definition(args, params), impl.name)


def test_position_outside_the_cache_is_refused(run, impl):
    calls, params = case("small decode last")
    q, k, v, ck, _ = calls.calls[0][:5]
    with pytest.raises(Exception):
        run(calls_for((q, k, v, ck, torch.tensor([k.shape[2]])), params))


@pytest.mark.parametrize("name", ["small decode last", "small block end", "small before the first window",
                                  "small prefill", "decode block start"])
@pytest.mark.parametrize("zero_q", [False, True], ids=["random", "ties"])
def test_triton_selection_equals_reference(name, zero_q):
    """The Triton kernels select blocks in a launch of their own (the C++ kernel selects inside the
    attention call, checked through its outputs above): the same blocks as the reference, exactly."""
    triton = Triton()
    calls, params = case(name, zero_q)
    if triton.unsupported(calls):
        pytest.skip(triton.unsupported(calls))
    from edgecpm.attention import triton_infllm

    q, k, v, ck, pos = calls.calls[0][:5]
    sel = triton_infllm.select_blocks(*(a.to(triton.device) for a in (q, ck, pos)), *params.op_args()).cpu()
    want = select_blocks(q, ck, pos, params)
    n_blocks = want.shape[-1]
    mask = torch.zeros(*sel.shape[:-1], n_blocks + 1, dtype=torch.bool)
    mask.scatter_(-1, torch.where(sel < 0, n_blocks, sel).long(), True)
    assert torch.equal(mask[..., :n_blocks], want)
