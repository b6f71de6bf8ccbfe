"""Triton kernels for ``edgecpm::infllm_attention`` (InfLLM-v2 block-sparse attention), the GPU
reference path beside the C++ kernel (runtime_kernels/src/infllm_attention.cpp). Semantics: the
op contract, as ``edgecpm.attention.infllm_v2`` implements it; fp32 (``tl.dot`` with
``input_precision="ieee"``: no TF32).

Three launches and one sort, per (batch, kv head, query row) — the group's query heads share
the selection, so one program holds all of them:

1. ``_stage1_kernel`` reads only the compressed keys: per head an online max/sum over the visible
   windows, then a second pass writes S[j] = sum over heads of softmax_j (-inf where not visible).
2. ``_pool_kernel``: block scores = max of S over the windows overlapping each block; forced blocks
   +inf, future blocks -inf; in a dense call (max(input_pos) + 1 < dense_len, decided once for
   all rows as the official code does) every block 0..qb gets +inf.
3. Selection in torch: ``torch.sort(descending=True, stable=True)`` on the block scores, first
   ``topk``. A stable sort keeps equal scores in index order, so ties go to the lower block index
   as the contract demands (``torch.topk`` makes no such promise). Future blocks score -inf and
   have the highest indices, so they come last and are dropped (-1).
4. ``_sparse_attn_kernel`` reads only the selected blocks' K/V: an online softmax over them,
   causal inside the query's own block.

The tests run these under ``TRITON_INTERPRET=1`` on CPU tensors. On a GPU, decode has only
B * Hkv programs per launch (2 for MiniCPM4-8B): fine as a reference, not a tuned kernel — a
split over the selected blocks (flash-decoding) is the next step for speed.
"""

from __future__ import annotations

import math

import torch
import triton
import triton.language as tl

from edgecpm.attention.infllm_v2 import dense_call


@triton.jit
def _stage1_kernel(q_ptr, ck_ptr, pos_ptr, s_ptr, HQ, HKV, T, C, D, W, G, KS, STRIDE, scale,
                   BLOCK_H: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_W: tl.constexpr):
    bg = tl.program_id(0)
    t = tl.program_id(1)
    b = bg // HKV
    g = bg % HKV
    p = tl.load(pos_ptr + t)
    nw = tl.where(p + 1 >= KS, (p + 1 - KS) // STRIDE + 1, 0)
    rh = tl.arange(0, BLOCK_H)
    rd = tl.arange(0, BLOCK_D)
    q = tl.load(q_ptr + ((b * HQ + g * G + rh[:, None]) * T + t) * D + rd[None, :],
                mask=(rh[:, None] < G) & (rd[None, :] < D), other=0.0)
    ck_base = ck_ptr + bg * C * D
    m = tl.full((BLOCK_H,), float("-inf"), tl.float32)
    l = tl.zeros((BLOCK_H,), tl.float32)
    for w0 in range(0, W, BLOCK_W):  # pass 1: per-head max and sum over the visible windows
        rw = w0 + tl.arange(0, BLOCK_W)
        vis = rw < nw
        ck = tl.load(ck_base + rw[:, None] * D + rd[None, :], mask=vis[:, None] & (rd[None, :] < D), other=0.0)
        s = tl.where(vis[None, :], tl.dot(q, tl.trans(ck), input_precision="ieee") * scale, float("-inf"))
        m_new = tl.maximum(m, tl.max(s, 1))
        alpha = tl.where(m_new == float("-inf"), 1.0, tl.exp(m - m_new))
        e = tl.where(vis[None, :], tl.exp(s - m_new[:, None]), 0.0)
        l = l * alpha + tl.sum(e, 1)
        m = m_new
    inv = tl.where(l > 0, 1.0 / l, 0.0)
    out = s_ptr + (bg * T + t) * W
    for w0 in range(0, W, BLOCK_W):  # pass 2: S[j] = sum over the group's heads of p_h[j]
        rw = w0 + tl.arange(0, BLOCK_W)
        vis = rw < nw
        ck = tl.load(ck_base + rw[:, None] * D + rd[None, :], mask=vis[:, None] & (rd[None, :] < D), other=0.0)
        s = tl.dot(q, tl.trans(ck), input_precision="ieee") * scale
        keep = vis[None, :] & (rh[:, None] < G)
        pr = tl.where(keep, tl.exp(s - m[:, None]) * inv[:, None], 0.0)
        tl.store(out + rw, tl.where(vis, tl.sum(pr, 0), float("-inf")), mask=rw < W)


@triton.jit
def _pool_kernel(s_ptr, pos_ptr, out_ptr, T, W, NB, KS, STRIDE, BS, INIT, LOCAL, DENSE,
                 M: tl.constexpr, BLOCK_B: tl.constexpr):
    bg = tl.program_id(0)
    t = tl.program_id(1)
    rb = tl.program_id(2) * BLOCK_B + tl.arange(0, BLOCK_B)
    p = tl.load(pos_ptr + t)
    qb = p // BS
    # windows overlapping block rb: s*j + K > bs*rb and s*j < bs*(rb + 1)
    lo = tl.where(BS * rb - KS < 0, 0, (BS * rb - KS) // STRIDE + 1)
    hi = (BS * rb + BS - 1) // STRIDE
    j = lo[:, None] + tl.arange(0, M)[None, :]
    ok = (j <= hi[:, None]) & (j < W)
    vals = tl.load(s_ptr + (bg * T + t) * W + j, mask=ok, other=float("-inf"))
    score = tl.max(vals, 1)
    forced = (rb < INIT) | ((rb >= qb - LOCAL) & (rb <= qb)) | (DENSE != 0)
    score = tl.where(forced, float("inf"), score)
    score = tl.where(rb > qb, float("-inf"), score)
    tl.store(out_ptr + (bg * T + t) * NB + rb, score, mask=rb < NB)


@triton.jit
def _sparse_attn_kernel(q_ptr, k_ptr, v_ptr, pos_ptr, sel_ptr, o_ptr, HQ, HKV, T, S, D, G, NSEL, BS, scale,
                        BLOCK_H: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_N: tl.constexpr):
    bg = tl.program_id(0)
    t = tl.program_id(1)
    b = bg // HKV
    g = bg % HKV
    p = tl.load(pos_ptr + t)
    rh = tl.arange(0, BLOCK_H)
    rd = tl.arange(0, BLOCK_D)
    rn = tl.arange(0, BLOCK_N)
    hmask = rh < G
    dmask = rd < D
    q_off = ((b * HQ + g * G + rh[:, None]) * T + t) * D + rd[None, :]
    q = tl.load(q_ptr + q_off, mask=hmask[:, None] & dmask[None, :], other=0.0)
    kv_base = bg * S * D
    m = tl.full((BLOCK_H,), float("-inf"), tl.float32)
    l = tl.zeros((BLOCK_H,), tl.float32)
    acc = tl.zeros((BLOCK_H, BLOCK_D), tl.float32)
    sel = sel_ptr + (bg * T + t) * NSEL
    for i in range(0, NSEL):
        bk = tl.load(sel + i)  # -1: no block
        slot = bk * BS + rn
        valid = (rn < BS) & (slot >= 0) & (slot <= p)  # bk = -1: every slot negative
        kv_off = kv_base + slot[:, None] * D + rd[None, :]
        kvmask = valid[:, None] & dmask[None, :]
        k = tl.load(k_ptr + kv_off, mask=kvmask, other=0.0)
        s = tl.where(valid[None, :], tl.dot(q, tl.trans(k), input_precision="ieee") * scale, float("-inf"))
        m_new = tl.maximum(m, tl.max(s, 1))
        alpha = tl.where(m_new == float("-inf"), 1.0, tl.exp(m - m_new))
        e = tl.where(valid[None, :], tl.exp(s - m_new[:, None]), 0.0)
        l = l * alpha + tl.sum(e, 1)
        v = tl.load(v_ptr + kv_off, mask=kvmask, other=0.0)
        acc = acc * alpha[:, None] + tl.dot(e, v, input_precision="ieee")
        m = m_new
    tl.store(o_ptr + q_off, acc / l[:, None], mask=hmask[:, None] & dmask[None, :])


def _p2(n: int, least: int = 16) -> int:
    return max(least, triton.next_power_of_2(max(1, n)))


def block_scores(q, ck_cache, input_pos, kernel_size: int, kernel_stride: int, block_size: int,
                 init_blocks: int, local_blocks: int, dense: bool, n_blocks: int) -> torch.Tensor:
    """[B, Hkv, T, n_blocks] fp32: pooled stage-1 scores, +inf forced (every block 0..qb in a
    dense call), -inf future or with no visible window."""
    b, hq, t, d = q.shape
    hkv, c = ck_cache.shape[1], ck_cache.shape[2]
    w = max(0, (int(input_pos.max()) + 1 - kernel_size) // kernel_stride + 1)
    if w > c:
        raise ValueError(f"ck_cache has {c} windows; position {int(input_pos.max())} needs {w}")
    q, ck = q.float().contiguous(), ck_cache.float().contiguous()
    pos = input_pos.to(torch.int64).contiguous()
    s = torch.empty(b, hkv, t, max(w, 1), dtype=torch.float32, device=q.device)
    if w > 0:
        _stage1_kernel[(b * hkv, t)](q, ck, pos, s, hq, hkv, t, c, d, w, hq // hkv, kernel_size, kernel_stride,
                                     1.0 / math.sqrt(d), BLOCK_H=_p2(hq // hkv), BLOCK_D=_p2(d), BLOCK_W=32)
    else:
        s.fill_(float("-inf"))
    out = torch.empty(b, hkv, t, n_blocks, dtype=torch.float32, device=q.device)
    m = triton.next_power_of_2((block_size + kernel_size - 2) // kernel_stride + 2)
    block_b = 64
    _pool_kernel[(b * hkv, t, triton.cdiv(n_blocks, block_b))](
        s, pos, out, t, s.shape[-1], n_blocks, kernel_size, kernel_stride, block_size, init_blocks, local_blocks,
        int(dense), M=m, BLOCK_B=block_b)
    return out


def select_blocks(q, ck_cache, input_pos, kernel_size: int, kernel_stride: int, block_size: int, init_blocks: int,
                  local_blocks: int, topk: int, dense_len: int) -> torch.Tensor:
    """int32 [B, Hkv, T, NSEL]: each row's blocks, ascending, -1 padded. NSEL = topk, or every
    block 0..qb in a dense call."""
    qb = input_pos.to(torch.int64) // block_size
    n_blocks = int(qb.max()) + 1
    dense = dense_call(input_pos, dense_len)
    nsel = n_blocks if dense else min(n_blocks, topk)
    scores = block_scores(q, ck_cache, input_pos, kernel_size, kernel_stride, block_size, init_blocks,
                          local_blocks, dense, n_blocks)
    order = torch.sort(scores, dim=-1, descending=True, stable=True).indices[..., :nsel]
    keep = order <= qb[:, None]  # [B, Hkv, T, NSEL] via broadcast
    return torch.sort(torch.where(keep, order, -1), dim=-1).values.to(torch.int32).contiguous()


def infllm_attention(q, k_cache, v_cache, ck_cache, input_pos, kernel_size: int, kernel_stride: int,
                     block_size: int, init_blocks: int, local_blocks: int, topk: int, dense_len: int) -> torch.Tensor:
    """The op on CUDA (or, under TRITON_INTERPRET=1, CPU) tensors: [B, Hq, T, D] in q's dtype."""
    b, hq, t, d = q.shape
    hkv, s = k_cache.shape[1], k_cache.shape[2]
    if t == 0:
        return q.new_empty(q.shape)
    if int(input_pos.min()) < 0 or int(input_pos.max()) >= s:
        raise ValueError(f"input_pos must lie in 0..{s - 1}")
    sel = select_blocks(q, ck_cache, input_pos, kernel_size, kernel_stride, block_size, init_blocks, local_blocks,
                        topk, dense_len)
    qf = q.float().contiguous()
    out = torch.empty_like(qf)
    _sparse_attn_kernel[(b * hkv, t)](
        qf, k_cache.float().contiguous(), v_cache.float().contiguous(), input_pos.to(torch.int64).contiguous(), sel,
        out, hq, hkv, t, s, d, hq // hkv, sel.shape[-1], block_size, 1.0 / math.sqrt(d),
        BLOCK_H=_p2(hq // hkv), BLOCK_D=_p2(d), BLOCK_N=_p2(block_size))
    return out.to(q.dtype)


def register_cuda_kernels() -> None:
    """Make ``torch.ops.edgecpm.infllm_attention`` run these kernels on CUDA tensors."""
    import edgecpm.attention.ops  # noqa: F401  defines the op

    torch.library.register_kernel("edgecpm::infllm_attention", "cuda", infllm_attention)
