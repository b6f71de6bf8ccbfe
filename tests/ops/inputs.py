"""The one input generator for the linear and embedding ops: odd output widths (not a multiple of any
kernel's row tile), a decode call (M = 1), a prefill call (M = 5, with an outlier that widens its
activation block's int8 step) and a verify-sized call (M = 3), weights of checkpoint scale. Seeded, so every run sees the same."""

from __future__ import annotations

import torch

N = 37       # output rows: odd, not a multiple of 4, 8, 16 or 32
K = 512      # input width: two TQ blocks, 16 activation blocks
ROWS = 200   # a wider layer: 13 row tiles, several per thread


def weight(n: int = N, k: int = K) -> torch.Tensor:
    return torch.randn(n, k, generator=torch.Generator().manual_seed(n * k)) * 0.05


def activations(k: int = K) -> list[torch.Tensor]:
    """[decode [1, 1, k], prefill [1, 5, k], verify [1, 3, k]] (a speculative verify call's few
    rows take the kernels' fused few-row path; made last so the first two stay as they were)."""
    g = torch.Generator().manual_seed(k)
    decode = torch.randn(1, 1, k, generator=g)
    prefill = torch.randn(1, 5, k, generator=g) * 3
    prefill[0, 2, 7] = 50.0
    verify = torch.randn(1, 3, k, generator=g)
    return [decode, prefill, verify]


def token_ids(vocab: int) -> list[torch.Tensor]:
    """[one id, five ids with a repeat and both ends of the table]."""
    return [torch.tensor([[3]]), torch.tensor([[0, vocab - 1, 7, 7, 12]])]


def attention_inputs(seed: int, positions: list[int], d: int, params, cache: int, heads: tuple[int, int] = (8, 2),
                     zero_q: bool = False) -> tuple:
    """``(q, k_cache, v_cache, ck_cache, input_pos)`` for ``edgecpm::infllm_attention``: unit-variance
    q/k/v over a ``cache``-slot KV cache, its compressed keys (with spare rows, as the model's cache
    has), query rows at ``positions``. ``zero_q``: every window scores the same (ties)."""
    from edgecpm.attention.infllm_v2 import compress_keys

    hq, hkv = heads
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(1, hq, len(positions), d, generator=g)
    if zero_q:
        q.zero_()
    k = torch.randn(1, hkv, cache, d, generator=g)
    v = torch.randn(1, hkv, cache, d, generator=g)
    ck = torch.cat([compress_keys(k, params.kernel_size, params.kernel_stride), torch.zeros(1, hkv, 3, d)], 2)
    return q, k, v, ck, torch.tensor(positions, dtype=torch.int64)
