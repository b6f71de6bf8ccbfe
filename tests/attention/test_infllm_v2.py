"""The InfLLM-v2 reference against what it must equal: dense attention when every block is
selected, a brute-force block selection written here from the contract alone (no code shared
with the module), and the dense_len switch."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import edgecpm.attention.ops  # noqa: F401
from edgecpm.attention.infllm_v2 import (SparseParams, compress_keys, infllm_attention_reference,
                                         select_blocks)


def rand_qkv(seed: int, length: int, hq: int = 4, hkv: int = 2, d: int = 16, batch: int = 1):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(batch, hq, length, d, generator=g)
    k = torch.randn(batch, hkv, length, d, generator=g)
    v = torch.randn(batch, hkv, length, d, generator=g)
    return q, k, v


def dense_causal(q, k, v):
    groups = q.shape[1] // k.shape[1]
    return F.scaled_dot_product_attention(q, k.repeat_interleave(groups, 1), v.repeat_interleave(groups, 1),
                                          is_causal=True)


def op(q, k, v, ck, pos, p: SparseParams):
    return torch.ops.edgecpm.infllm_attention(q, k, v, ck, pos, *p.op_args())


@pytest.mark.parametrize("kernel,stride,block", [(4, 2, 8), (32, 16, 64), (8, 4, 4), (5, 3, 8)])
def test_selecting_every_block_is_dense_attention(kernel, stride, block):
    q, k, v = rand_qkv(0, 150)
    p = SparseParams(kernel, stride, block, init_blocks=1, local_blocks=1, topk=1000, dense_len=-1)
    got = op(q, k, v, compress_keys(k, kernel, stride), torch.arange(150), p)
    assert (got - dense_causal(q, k, v)).abs().max().item() <= 1e-5


def test_cache_larger_than_the_sequence_and_chunked_rows_change_nothing():
    # Slots beyond the last position (stale cache) and the row chunking must not leak in.
    q, k, v = rand_qkv(1, 300)
    p = SparseParams(4, 2, 8, init_blocks=1, local_blocks=1, topk=5, dense_len=-1)
    pos = torch.arange(300)
    full = op(q, k, v, compress_keys(k, 4, 2), pos, p)
    junk = torch.randn(1, 2, 50, 16)
    k2, v2 = torch.cat([k, junk], 2), torch.cat([v, junk], 2)
    ck2 = torch.cat([compress_keys(k, 4, 2), torch.randn(1, 2, 30, 16)], 2)
    assert torch.equal(op(q, k2, v2, ck2, pos, p), full)
    # One row at a time (decode) equals all rows at once.
    rows = torch.cat([op(q[:, :, i:i + 1], k2, v2, ck2, pos[i:i + 1], p) for i in range(0, 300, 37)], 2)
    assert (rows - full[:, :, ::37]).abs().max().item() <= 1e-6


# ---- brute force, from the contract text only ----

def brute_force_selection(q, k, pos, kernel, stride, block, init_blocks, local_blocks, topk):
    """Per (batch, kv head, row): the selected block set, and whether the top-k boundary is a
    near-tie (two different scores within 1e-6, where fp32 and fp64 may legitimately disagree)."""
    q, k = q.double().tolist(), k.double().tolist()
    batch, hq, hkv = len(q), len(q[0]), len(k[0])
    group, d = hq // hkv, len(q[0][0][0])
    out = {}
    for b in range(batch):
        for g in range(hkv):
            keys = k[b][g]
            n_all = max(0, (len(keys) - kernel) // stride + 1)
            ck = [[sum(keys[stride * j + i][e] for i in range(kernel)) / kernel for e in range(d)]
                  for j in range(n_all)]
            for t, p in enumerate(pos):
                nw = max(0, (p + 1 - kernel) // stride + 1)
                score_j = [0.0] * nw
                for h in range(g * group, (g + 1) * group):
                    logits = [sum(a * c for a, c in zip(q[b][h][t], ck[j])) / math.sqrt(d) for j in range(nw)]
                    if not logits:
                        continue
                    m = max(logits)
                    e = [math.exp(x - m) for x in logits]
                    for j in range(nw):
                        score_j[j] += e[j] / sum(e)
                qb = p // block
                scores = []
                for bk in range(qb + 1):
                    over = [score_j[j] for j in range(nw)
                            if stride * j < block * (bk + 1) and stride * j + kernel > block * bk]
                    s = max(over) if over else -math.inf
                    if bk < init_blocks or qb - local_blocks <= bk <= qb:
                        s = math.inf
                    scores.append((s, bk))
                ranked = sorted(scores, key=lambda sb: (-sb[0], sb[1]))
                chosen = {bk for _, bk in ranked[:topk]}
                near_tie = (len(ranked) > topk and ranked[topk - 1][0] != ranked[topk][0]
                            and abs(ranked[topk - 1][0] - ranked[topk][0]) < 1e-6)
                out[b, g, t] = (chosen, near_tie)
    return out


@pytest.mark.parametrize("kernel,stride,block,init_blocks,local_blocks,topk", [
    (4, 2, 8, 1, 1, 4),     # small: several windows per block
    (32, 16, 64, 1, 2, 5),  # the real kernel/stride/block with a small budget
    (8, 4, 4, 0, 0, 3),     # windows longer than blocks; only the own block forced
    (5, 3, 8, 2, 1, 6),     # stride that divides neither the kernel nor the block
    (4, 4, 8, 1, 0, 2),     # non-overlapping windows
])
def test_selection_equals_brute_force(kernel, stride, block, init_blocks, local_blocks, topk):
    length = 20 * block + 5
    q, k, _ = rand_qkv(kernel * 100 + block, length, batch=2)
    # Rows spread over the sequence, including the very first positions (no visible window).
    pos = sorted(set(range(0, length, max(1, length // 40))) | {0, 1, kernel - 1, kernel, length - 1})
    p = SparseParams(kernel, stride, block, init_blocks, local_blocks, topk, dense_len=-1)
    n_blocks = (length + block - 1) // block
    got = select_blocks(q[:, :, pos], compress_keys(k, kernel, stride), torch.tensor(pos), p, n_blocks)
    want = brute_force_selection(q[:, :, pos], k, pos, kernel, stride, block, init_blocks, local_blocks, topk)
    checked = 0
    for (b, g, t), (chosen, near_tie) in want.items():
        if near_tie:
            continue
        assert set(got[b, g, t].nonzero().flatten().tolist()) == chosen, (b, g, pos[t])
        checked += 1
    assert checked >= 0.95 * len(want)
    # The budget is really binding somewhere, and never exceeded.
    assert (got.sum(-1) == topk).any() and (got.sum(-1) <= topk).all()


def test_ties_go_to_the_lower_block_and_future_blocks_are_never_chosen():
    # All-zero queries give every visible window the same stage-1 score: every visible block
    # ties, so the chosen free blocks are the lowest-indexed ones.
    kernel, stride, block = 4, 2, 8
    _, k, _ = rand_qkv(3, 200)
    q = torch.zeros(1, 4, 1, 16)
    p = SparseParams(kernel, stride, block, init_blocks=1, local_blocks=1, topk=5, dense_len=-1)
    sel = select_blocks(q, compress_keys(k, kernel, stride), torch.tensor([120]), p, n_blocks=25)
    # qb = 15: forced 0, 14, 15; free picks by index: 1, 2. Nothing beyond 15.
    assert sel[0, 0, 0].nonzero().flatten().tolist() == [0, 1, 2, 14, 15]


def test_dense_len_switch_is_one_decision_per_call():
    """As the official code: the call's KV length, max(input_pos) + 1, decides for every row. A
    prefill that reaches dense_len is sparse from its first row on (rows below dense_len included);
    a call that stays below it is dense, whatever its rows' block counts."""
    q, k, v = rand_qkv(4, 160)
    ck, pos = compress_keys(k, 4, 2), torch.arange(160)
    sparse = SparseParams(4, 2, 8, init_blocks=1, local_blocks=1, topk=3, dense_len=-1)
    switched = SparseParams(4, 2, 8, init_blocks=1, local_blocks=1, topk=3, dense_len=100)
    dense = dense_causal(q, k, v)
    # One prefill of 160 >= 100: every row as with -1 (always sparse).
    long_call = op(q, k, v, ck, pos, switched)
    assert torch.equal(long_call, op(q, k, v, ck, pos, sparse))
    # Rows below dense_len really are sparse in it: they are not dense attention (per-row
    # switching would make rows 0..98 dense here).
    assert (long_call[:, :, 30:99] - dense[:, :, 30:99]).abs().max().item() > 1e-2
    # A prefill of 99 < 100: every row dense, though rows past 24 see more blocks than topk.
    short_call = op(q[:, :, :99], k, v, ck, pos[:99], switched)
    assert (short_call - dense[:, :, :99]).abs().max().item() <= 1e-5
    # Decode: the row alone decides; at p = 98 dense, at p = 99 sparse.
    assert (op(q[:, :, 98:99], k, v, ck, pos[98:99], switched) - dense[:, :, 98:99]).abs().max().item() <= 1e-5
    assert torch.equal(op(q[:, :, 99:100], k, v, ck, pos[99:100], switched), long_call[:, :, 99:100])


def test_compress_keys_is_the_window_mean():
    k = torch.randn(1, 2, 37, 8)
    ck = compress_keys(k, 5, 3)
    assert ck.shape == (1, 2, (37 - 5) // 3 + 1, 8)
    assert torch.allclose(ck[:, :, 4], k[:, :, 12:17].mean(2))
    assert compress_keys(k[:, :, :4], 5, 3).shape == (1, 2, 0, 8)


def test_params_from_the_8b_config_and_budget_check():
    from edgecpm.model.presets import preset

    p = SparseParams.from_config(preset("minicpm4-8b").sparse_config)
    assert p.op_args() == (32, 16, 64, 1, 32, 96, 8192)
    assert SparseParams.from_config(preset("minicpm4-8b").sparse_config, topk=64).topk == 64
    with pytest.raises(ValueError, match="below the 34 forced blocks"):
        SparseParams.from_config(preset("minicpm4-8b").sparse_config, topk=33)


def test_fake_kernel_and_out_schema():
    schema = str(torch.ops.edgecpm.infllm_attention.out._schema)
    assert "Tensor(a!) out" in schema and "SymInt dense_len" in schema
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode():
        q, k = torch.empty(1, 4, 3, 16), torch.empty(1, 2, 64, 16)
        y = op(q, k, k, torch.empty(1, 2, 31, 16), torch.arange(3), SparseParams(4, 2, 8, 1, 1, 3, -1))
    assert y.shape == (1, 4, 3, 16)


def test_positions_outside_the_cache_are_refused():
    q, k, v = rand_qkv(5, 40)
    with pytest.raises(ValueError, match="do not fit a cache of 40 slots"):
        infllm_attention_reference(q[:, :, :1], k, v, compress_keys(k, 4, 2), torch.tensor([40]),
                                   SparseParams(4, 2, 8, 1, 1, 3, -1))
