"""InfLLM-v2 block-sparse attention: the PyTorch reference (MINICPM4.md §3).

This is the truth the C++ and Triton kernels of ``edgecpm::infllm_attention`` are checked
against, and the eager path of a sparse model. It follows the op contract (``infllm_op.md``)
step by step; each function below is one step, so a kernel author can compare intermediate
results (compressed keys, block scores, the selected block set) and not only the output.

Per call: the KV length is L = max(input_pos) + 1 (the positions this call reaches, the cache
before it included).

0. switch, once per call as the official ``MiniCPMInfLLMv2Attention`` decides it:
   ``dense_len >= 0 and L < dense_len`` → every row attends densely (causal, slots 0..p); else
   every row is sparse, early rows of a long prefill included. (A prompt an exported program
   prefills in chunks gets one decision per chunk.)

Then per batch b, query row t at position p = input_pos[t], kv head g (one GQA group of query heads):

1. visible windows j = 0 .. nw-1, nw = max(0, (p + 1 - K) // s + 1) (the window ends at or
   before p); ``compress_keys``: window j = mean of keys s*j .. s*j+K-1;
2. ``stage1_scores``: per query head a softmax over the visible windows of q·ck/sqrt(D), summed
   over the group's heads;
3. ``pool_to_blocks``: block bk scores the max over the visible windows overlapping it, -inf if none;
4. forced blocks (bk < init_blocks, or the query's own block and the local_blocks before it) +inf;
5. top-k of the blocks 0..qb, ties to the lower block index (``select_blocks``);
6. exact softmax attention over the selected blocks' slots <= p (``infllm_attention_reference``).

All arithmetic is fp32 whatever the input dtype; the output has q's dtype. Scale 1/sqrt(D).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from edgecpm.attention.sparse_config import SparseConfig

# Query rows are processed this many at a time, bounding stage-1/2 memory on long prefills.
_ROW_CHUNK = 256


@dataclass(frozen=True)
class SparseParams:
    """The op's integer arguments. ``topk`` is the total block budget, forced blocks included
    (the public kernels' convention: HF ``topk`` + ``window_size / block_size``)."""

    kernel_size: int = 32
    kernel_stride: int = 16
    block_size: int = 64
    init_blocks: int = 1
    local_blocks: int = 32
    topk: int = 96
    dense_len: int = 8192

    def __post_init__(self):
        forced = self.init_blocks + self.local_blocks + 1
        if self.topk < forced:
            # Forced blocks tie at +inf and the lower index wins: the query's own block would go.
            raise ValueError(f"topk {self.topk} (the total budget) is below the {forced} forced blocks "
                             f"(init {self.init_blocks} + local {self.local_blocks} + the query's own)")

    @classmethod
    def from_config(cls, sc: SparseConfig, topk: int | None = None) -> "SparseParams":
        """From a checkpoint's ``sparse_config``; ``topk`` overrides the total budget (e.g. 64,
        the older release's convention)."""
        local = sc.window_size // sc.block_size
        return cls(kernel_size=sc.kernel_size, kernel_stride=sc.kernel_stride, block_size=sc.block_size,
                   init_blocks=sc.init_blocks, local_blocks=local,
                   topk=sc.topk + local if topk is None else topk, dense_len=sc.dense_len)

    def op_args(self) -> tuple[int, int, int, int, int, int, int]:
        """The integer arguments in the op's schema order."""
        return (self.kernel_size, self.kernel_stride, self.block_size, self.init_blocks,
                self.local_blocks, self.topk, self.dense_len)

    def num_windows(self, length: int) -> int:
        """Complete compression windows among ``length`` keys."""
        return max(0, (length - self.kernel_size) // self.kernel_stride + 1)


def window_slots(n_windows: int, kernel_size: int, kernel_stride: int,
                 device: torch.device | str | None = None) -> torch.Tensor:
    """[n_windows, K] int64: the key positions window j averages (s*j .. s*j+K-1)."""
    start = torch.arange(n_windows, device=device) * kernel_stride
    return start[:, None] + torch.arange(kernel_size, device=device)


def compress_keys(k: torch.Tensor, kernel_size: int, kernel_stride: int) -> torch.Tensor:
    """[..., L, D] keys → [..., nw, D] compressed keys, nw = max(0, (L - K) // s + 1).

    Gather [..., nw, K, D] then mean over K: the same reduction the model's incremental writer
    (``CompressedKeyCache``) uses, so the two agree bit for bit.
    """
    nw = max(0, (k.shape[-2] - kernel_size) // kernel_stride + 1)
    idx = window_slots(nw, kernel_size, kernel_stride, k.device)
    return k[..., idx, :].mean(-2)


def visible_windows(input_pos: torch.Tensor, kernel_size: int, kernel_stride: int) -> torch.Tensor:
    """[T] int64: nw(p) = max(0, (p + 1 - K) // s + 1) windows lie wholly at or before p."""
    return ((input_pos + 1 - kernel_size).div(kernel_stride, rounding_mode="floor") + 1).clamp(min=0)


def accumulation_dtype(q: torch.Tensor) -> torch.dtype:
    """fp32 for the model's dtypes; float64 for float64 inputs (the tests' exact definition)."""
    return torch.promote_types(q.dtype, torch.float32)


def stage1_scores(q: torch.Tensor, ck_cache: torch.Tensor, input_pos: torch.Tensor,
                  params: SparseParams) -> torch.Tensor:
    """[B, Hkv, T, W] fp32 (float64 for float64 q): S[j] = sum over the group's heads of
    softmax_j(q_h·ck[j] / sqrt(D)), over the visible windows; -inf where j is not visible. W = the
    most windows any row sees."""
    b, hq, t, d = q.shape
    hkv = ck_cache.shape[1]
    nw = visible_windows(input_pos, params.kernel_size, params.kernel_stride)
    w = int(nw.max()) if t else 0
    if w > ck_cache.shape[2]:
        raise ValueError(f"ck_cache has {ck_cache.shape[2]} windows; position {int(input_pos.max())} "
                         f"needs {w}")
    acc = accumulation_dtype(q)
    qg = q.to(acc).view(b, hkv, hq // hkv, t, d)
    logits = torch.einsum("bhgtd,bhwd->bhgtw", qg, ck_cache[:, :, :w].to(acc)) / math.sqrt(d)
    visible = torch.arange(w, device=q.device)[None, :] < nw[:, None]  # [T, W]
    p = torch.softmax(logits.masked_fill(~visible, float("-inf")), dim=-1)
    # A row with no visible window is softmax of all -inf (NaN): it contributes nothing.
    p = torch.where(visible, p, 0.0)
    return p.sum(2).masked_fill(~visible, float("-inf"))


def block_windows(n_blocks: int, n_windows: int, params: SparseParams,
                  device: torch.device | str | None = None) -> torch.Tensor:
    """[n_blocks, M] int64: the windows overlapping each block (s*j < bs*(bk+1) and
    s*j + K > bs*bk), padded with ``n_windows`` (an index for "none")."""
    k, s, bs = params.kernel_size, params.kernel_stride, params.block_size
    bk = torch.arange(n_blocks, device=device)
    lo = (bs * bk - k).div(s, rounding_mode="floor") + 1
    hi = (bs * bk + bs - 1).div(s, rounding_mode="floor")
    m = (bs + k - 2) // s + 2  # an upper bound on hi - lo + 1
    j = lo[:, None] + torch.arange(m, device=device)
    ok = (j >= 0) & (j <= hi[:, None]) & (j < n_windows)
    return torch.where(ok, j, n_windows)


def pool_to_blocks(scores: torch.Tensor, n_blocks: int, params: SparseParams) -> torch.Tensor:
    """[..., W] window scores (-inf = not visible) → [..., n_blocks]: the max over the windows
    overlapping each block; -inf where no visible window overlaps it."""
    w = scores.shape[-1]
    padded = torch.cat([scores, scores.new_full((*scores.shape[:-1], 1), float("-inf"))], -1)
    idx = block_windows(n_blocks, w, params, scores.device)
    return padded[..., idx].amax(-1)


def select_blocks(q: torch.Tensor, ck_cache: torch.Tensor, input_pos: torch.Tensor, params: SparseParams,
                  n_blocks: int | None = None) -> torch.Tensor:
    """Steps 1-5: the sparse block selection, bool [B, Hkv, T, n_blocks] (n_blocks defaults to
    the query blocks' count, max(p) // block_size + 1). The dense switch (step 0) is not applied
    here. Never selects a block after the query's own; ties go to the lower block index."""
    bs = params.block_size
    qb = input_pos.div(bs, rounding_mode="floor")  # [T]
    if n_blocks is None:
        n_blocks = int(qb.max()) + 1 if input_pos.numel() else 0
    score = pool_to_blocks(stage1_scores(q, ck_cache, input_pos, params), n_blocks, params)
    bk = torch.arange(n_blocks, device=q.device)[None, :]
    qb = qb[:, None]
    forced = (bk < params.init_blocks) | ((bk >= qb - params.local_blocks) & (bk <= qb))
    future = bk > qb
    score = score.masked_fill(forced, float("inf")).masked_fill(future, float("-inf"))
    # A stable descending sort keeps equal scores in index order: ties go to the lower block.
    # Future blocks score -inf and have higher indices than every candidate, so they are only
    # reached when all candidates are taken, and are masked out after.
    order = torch.sort(score, dim=-1, descending=True, stable=True).indices[..., :params.topk]
    chosen = torch.zeros_like(score, dtype=torch.bool).scatter_(-1, order, True)
    return chosen & ~future


def dense_call(input_pos: torch.Tensor, dense_len: int) -> bool:
    """Step 0, one answer for the whole call: dense_len >= 0 and max(input_pos) + 1 < dense_len.
    The official code takes it from the call's KV length, not per query row, so a prefill that
    ends at or past dense_len is sparse from its first row on."""
    return dense_len >= 0 and input_pos.numel() > 0 and int(input_pos.max()) + 1 < dense_len


def _attend_rows(q, k_cache, v_cache, ck_cache, input_pos, params: SparseParams, dense: bool) -> torch.Tensor:
    b, hq, t, d = q.shape
    hkv = k_cache.shape[1]
    bs = params.block_size
    length = int(input_pos.max()) + 1  # slots beyond the last query's position are never read
    if length > k_cache.shape[2] or int(input_pos.min()) < 0:
        raise ValueError(f"positions {int(input_pos.min())}..{length - 1} do not fit a cache of "
                         f"{k_cache.shape[2]} slots")
    slots = torch.arange(length, device=q.device)
    causal = slots[None, :] <= input_pos[:, None]  # [T, L]
    if dense:
        allowed = causal.expand(b, hkv, t, length)
    else:
        blocks = select_blocks(q, ck_cache, input_pos, params)  # [B, Hkv, T, qb_max + 1]
        allowed = blocks.repeat_interleave(bs, dim=-1)[..., :length] & causal
    acc = accumulation_dtype(q)
    qg = q.to(acc).view(b, hkv, hq // hkv, t, d)
    logits = torch.einsum("bhgtd,bhld->bhgtl", qg, k_cache[:, :, :length].to(acc)) / math.sqrt(d)
    attn = torch.softmax(logits.masked_fill(~allowed[:, :, None], float("-inf")), dim=-1)
    y = torch.einsum("bhgtl,bhld->bhgtd", attn, v_cache[:, :, :length].to(acc))
    return y.reshape(b, hq, t, d).to(q.dtype)


def infllm_attention_reference(q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                               ck_cache: torch.Tensor, input_pos: torch.Tensor,
                               params: SparseParams) -> torch.Tensor:
    """The op's semantics: q [B, Hq, T, D] (RoPE'd), k/v_cache [B, Hkv, S, D] (slot i = position
    i), ck_cache [B, Hkv, C, D] (row j = window j; only visible rows are read), input_pos [T]
    int64 → [B, Hq, T, D] in q's dtype. Differentiable in q, k, v and ck (not in the selection)."""
    if q.shape[2] == 0:
        return q.new_empty(q.shape)
    dense = dense_call(input_pos, params.dense_len)  # before chunking: one decision for all rows
    out = [_attend_rows(q[:, :, i:i + _ROW_CHUNK], k_cache, v_cache, ck_cache, input_pos[i:i + _ROW_CHUNK], params,
                        dense)
           for i in range(0, q.shape[2], _ROW_CHUNK)]
    return out[0] if len(out) == 1 else torch.cat(out, dim=2)
