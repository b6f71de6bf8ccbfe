"""The compressed-key cache of one sparse attention layer, written incrementally and export-friendly.

Layout: ``ck_cache`` [batch, kv_heads, C + 1, head_dim], C = (max_seq_len - K) // s + 1. Row j
(< C) is window j, the mean of the RoPE'd keys at positions s*j .. s*j+K-1, exactly what
``compress_keys`` gives for the full keys. Row C is scratch: positions that complete no window
write there, so the update is one gather, one mean and one in-place row write for any chunk of positions,
with no branch on tensor values (torch.export traces it once for prefill and decode alike) and no
two writes to the same real row. The op never reads row C (no position sees C windows' worth + 1).
"""

from __future__ import annotations

import torch
from torch import nn

import edgecpm.attention.cache_write  # noqa: F401  registers torch.ops.edgecpm.cache_write
from edgecpm.attention.infllm_v2 import SparseParams


class CompressedKeyCache(nn.Module):
    def __init__(self, batch: int, kv_heads: int, max_seq_len: int, head_dim: int, params: SparseParams,
                 dtype: torch.dtype, device: torch.device | str | None = None):
        super().__init__()
        self.kernel_size, self.kernel_stride = params.kernel_size, params.kernel_stride
        self.n_windows = params.num_windows(max_seq_len)  # C; row C is the scratch row
        shape = (batch, kv_heads, self.n_windows + 1, head_dim)
        self.register_buffer("ck_cache", torch.zeros(shape, dtype=dtype, device=device), persistent=False)

    def update(self, input_pos: torch.Tensor, k_cache: torch.Tensor) -> torch.Tensor:
        """Write the windows that positions ``input_pos`` complete, reading their keys from
        ``k_cache`` (already holding these positions). Window j completes at p = s*j + K - 1."""
        k, s = self.kernel_size, self.kernel_stride
        b, h, _, d = k_cache.shape
        t = input_pos.shape[0]
        # The K keys ending at each p (positions p-K+1 .. p; clamped below 0, where no window completes).
        slots = (input_pos[:, None] - (k - 1) + torch.arange(k, device=input_pos.device)).clamp(min=0)
        windows = k_cache.index_select(2, slots.reshape(-1)).view(b, h, t, k, d).mean(-2)
        end = input_pos + 1 - k
        completes = (end >= 0) & (end.remainder(s) == 0)
        row = torch.where(completes, end.div(s, rounding_mode="floor"), self.n_windows)
        # In place (edgecpm::cache_write), as KVCache.update: no copy of the whole buffer per call.
        torch.ops.edgecpm.cache_write(self.ck_cache, windows.to(self.ck_cache.dtype), row)
        return self.ck_cache
