"""``edgecpm::infllm_tree_attention``: InfLLM-v2 for a verification call, each row a decode step over
its own sequence (the committed prefix, then its tree path). Trees sit in the slots after the
prefix, at MiniCPM4's geometry (window 32, stride 16, block 64) and a scaled-down one (window 8,
stride 4, block 16) where the paths complete windows of their own; the per-row dense switch; a
causal chain (what a prompt chunk is).

The definition is the Python reference in float64. The reference itself is checked against its
meaning: each row equals the plain op's decode step over a cache holding the row's sequence at
slots = positions, with the compressed keys of that sequence. The ck-cache rows past the committed
prefix's windows are NaN: an implementation that read them would fail.
"""

from __future__ import annotations

import functools

import pytest
import torch

from edgecpm.attention.infllm_tree import infllm_tree_attention_reference, row_sequences
from edgecpm.attention.infllm_v2 import SparseParams, compress_keys, infllm_attention_reference
from tests.ops.implementations import OpCalls
from tests.ops.tolerance import assert_within_rounding

MINICPM4 = SparseParams(kernel_size=32, kernel_stride=16, block_size=64, init_blocks=1, local_blocks=2, topk=6,
                        dense_len=-1)
SWITCH = SparseParams(32, 16, 64, init_blocks=1, local_blocks=2, topk=6, dense_len=702)
SMALL = SparseParams(kernel_size=8, kernel_stride=4, block_size=16, init_blocks=1, local_blocks=1, topk=4,
                     dense_len=-1)
# EAGLE-2's shape: two depth-1 children, their children, one depth-3 node under the second branch.
TREE = [-1, 0, 0, 1, 1, 2, 2, 5, 7]

# name -> (first position p0, parents (None: a causal chain of 6), head dim, params, cache slots)
CASES = {
    "tree": (1000, TREE, 64, MINICPM4, 1024),
    "tree across a block": (1021, TREE, 64, MINICPM4, 1040),
    "tree across dense_len": (699, TREE, 40, SWITCH, 720),
    "chain": (990, None, 64, MINICPM4, 1024),
    "small tree": (141, TREE, 20, SMALL, 160),
    "small tree D=13": (62, TREE, 13, SMALL, 80),
    "small tree before the first window": (2, TREE, 20, SMALL, 32),
}


def depths(parents: list[int]) -> list[int]:
    out = []
    for p in parents:
        out.append(0 if p < 0 else out[p] + 1)
    return out


def tree_inputs(seed: int, p0: int, parents: list[int] | None, d: int, params: SparseParams, cache: int,
                heads: tuple[int, int] = (8, 2)) -> tuple:
    """(q, k_cache, v_cache, ck_cache, input_pos, attn_mask): the tree's nodes in slots p0.., each
    reading the prefix and its ancestors; the ck cache holds the prefix's windows, NaN beyond."""
    parents = list(range(-1, 5)) if parents is None else parents
    n = len(parents)
    hq, hkv = heads
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(1, hq, n, d, generator=g)
    k = torch.randn(1, hkv, cache, d, generator=g)
    v = torch.randn(1, hkv, cache, d, generator=g)
    committed = params.num_windows(p0)
    ck = torch.full((1, hkv, params.num_windows(cache) + 1, d), float("nan"))
    ck[:, :, :committed] = compress_keys(k[:, :, :p0], params.kernel_size, params.kernel_stride)
    mask = torch.zeros(n, cache, dtype=torch.bool)
    mask[:, :p0] = True
    for i, p in enumerate(parents):
        if p >= 0:
            mask[i] = mask[p]
        mask[i, p0 + i] = True
    return q, k, v, ck, p0 + torch.tensor(depths(parents)), mask


@functools.cache
def case(name: str) -> tuple[OpCalls, SparseParams]:
    p0, parents, d, params, cache = CASES[name]
    args = tree_inputs(len(name), p0, parents, d, params, cache)
    calls = OpCalls("infllm_tree_attention", [(*args, *params.op_args())], varying=(0, 1, 2, 3, 4, 5), dynamic={})
    return calls, params


def definition(args: tuple, params: SparseParams) -> tuple[torch.Tensor, torch.Tensor]:
    q, k, v, ck, pos, mask = (a.double() if a.is_floating_point() else a for a in args)
    return (infllm_tree_attention_reference(q, k, v, ck, pos, mask, params),
            infllm_tree_attention_reference(q, k, v.abs(), ck, pos, mask, params))


@pytest.mark.parametrize("name", list(CASES))
def test_equals_definition(run, name, impl):
    calls, params = case(name)
    (out,) = run(calls)
    assert out.dtype == torch.float32
    assert_within_rounding(out, *definition(calls.calls[0][:6], params), f"{impl.name} {name}")


def plain_decode_step(q_row, k, v, seq: torch.Tensor, params: SparseParams) -> torch.Tensor:
    """The plain op at position len(seq) - 1 over a fresh cache holding slots ``seq`` at positions
    0.., its compressed keys computed from that cache."""
    keys, values = k[:, :, seq], v[:, :, seq]
    ck = compress_keys(keys, params.kernel_size, params.kernel_stride)
    return infllm_attention_reference(q_row, keys, values, ck, torch.tensor([seq.numel() - 1]), params)


@pytest.mark.parametrize("name", list(CASES))
def test_each_row_is_a_decode_step_over_its_path(name):
    calls, params = case(name)
    q, k, v, ck, pos, mask = (a.double() if a.is_floating_point() else a for a in calls.calls[0][:6])
    got = infllm_tree_attention_reference(q, k, v, ck, pos, mask, params)
    for t, seq in enumerate(row_sequences(mask, pos)):
        want = plain_decode_step(q[:, :, t:t + 1], k, v, seq, params)
        assert torch.allclose(got[:, :, t:t + 1], want, rtol=0, atol=1e-12), f"{name}: row {t}"


def test_blocks_are_really_dropped_and_paths_differ():
    """In "tree" every row drops blocks (6 of 16 read), and siblings at one position (rows 1 and 2)
    differ from each other: each reads its own path, not the slots in between."""
    calls, params = case("tree")
    q, k, v, ck, pos, mask = calls.calls[0][:6]
    got = infllm_tree_attention_reference(q, k, v, ck, pos, mask, params)
    dense = infllm_tree_attention_reference(q, k, v, ck, pos, mask, SparseParams(32, 16, 64, 1, 2, 16, -1))
    assert ((got - dense).abs().amax(dim=(0, 1, 3)) > 0.05).all()
    assert pos[1] == pos[2] and (got[:, :, 1] - got[:, :, 2]).abs().max() > 0.05


def test_mask_with_the_wrong_number_of_slots_is_refused(run, impl):
    calls, params = case("small tree")
    q, k, v, ck, pos, mask = calls.calls[0][:6]
    bad = mask.clone()
    bad[3, 0] = False  # row 3 skips a committed slot
    with pytest.raises(Exception):
        run(OpCalls("infllm_tree_attention", [(q, k, v, ck, pos, bad, *params.op_args())],
                    varying=(0, 1, 2, 3, 4, 5), dynamic={}))
