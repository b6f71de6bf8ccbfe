"""``edgecpm::cached_attention``: dense grouped-query attention over a static KV cache, one op.

What it replaces in the exported graph, per layer and step: the rotary rotation of q and k, an
out-of-place ``index_put`` of the new K/V into a copy of the whole cache plus a ``copy_`` back, a
``repeat_interleave`` of K and V from the kv heads to all query heads over every slot, and an SDPA
over all ``max_seq_len`` slots under a mask. The op writes the new K/V into the cache in place
(``Tensor(a!)``: ExecuTorch keeps it as a mutation of the buffer, no copy) and each query row
reads only the slots it may see, grouped by kv head, so decode cost follows the position, not
the cache size.

Arguments (float32; q/k/v straight from the projections, no transposes):
- ``q`` [B, T, Hq, D], ``k``/``v`` [B, T, Hkv, D], before the rotation;
- ``k_cache``/``v_cache`` [B, Hkv, S, D], mutated: slot ``cache_pos[t]`` gets token t's rotated k and its v;
- ``cos``/``sin`` [T, D]: each token's rotary rows (NeoX layout, ``attention/rotary.py``);
- ``cache_pos`` [T] int64: the slots the tokens' K/V go to;
- ``attn_mask`` [T, S] bool or None: which slots each token reads. None means slots
  ``0 .. cache_pos[t]`` (causal by slot: plain prefill and decode).
Returns [B, T, Hq, D]; query head h reads kv head h // (Hq / Hkv), as HF's ``repeat_kv``.

The Python reference below is the eager path and the definition: it is the graph the op
replaces, so eager logits are unchanged. The C++ kernel (``runtime_kernels/src/cached_attention.cpp``)
equals it to fp32 rounding (online softmax, lane-order sums).
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from edgecpm.attention.rotary import apply_rope

# Defined through torch.library.define, not custom_op: custom_op writes the mutation as
# ``Tensor(a1!)``, which ExecuTorch's schema parser (torchgen) rejects in to_executorch().
torch.library.define(
    "edgecpm::cached_attention",
    "(Tensor q, Tensor k, Tensor v, Tensor(a!) k_cache, Tensor(b!) v_cache, Tensor cos, Tensor sin, "
    "Tensor cache_pos, Tensor? attn_mask) -> Tensor")
torch.library.define(
    "edgecpm::cached_attention.out",
    "(Tensor q, Tensor k, Tensor v, Tensor(a!) k_cache, Tensor(b!) v_cache, Tensor cos, Tensor sin, "
    "Tensor cache_pos, Tensor? attn_mask, *, Tensor(c!) out) -> Tensor(c!)")


def cached_attention_reference(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, k_cache: torch.Tensor,
                               v_cache: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor,
                               cache_pos: torch.Tensor, attn_mask: Optional[torch.Tensor]) -> torch.Tensor:
    q = apply_rope(q.transpose(1, 2), cos, sin)
    k = apply_rope(k.transpose(1, 2), cos, sin)
    k_cache[:, :, cache_pos] = k
    v_cache[:, :, cache_pos] = v.transpose(1, 2)
    if attn_mask is None:
        attn_mask = cache_pos.unsqueeze(1) >= torch.arange(k_cache.shape[2], device=cache_pos.device)
    groups = q.shape[1] // k_cache.shape[1]
    keys = k_cache.repeat_interleave(groups, dim=1)
    values = v_cache.repeat_interleave(groups, dim=1)
    y = F.scaled_dot_product_attention(q, keys, values, attn_mask=attn_mask)
    return y.transpose(1, 2)


@torch.library.impl("edgecpm::cached_attention", "CompositeExplicitAutograd")
def _cached_attention(q, k, v, k_cache, v_cache, cos, sin, cache_pos, attn_mask):
    return cached_attention_reference(q, k, v, k_cache, v_cache, cos, sin, cache_pos, attn_mask).contiguous()


@torch.library.register_fake("edgecpm::cached_attention")
def _(q, k, v, k_cache, v_cache, cos, sin, cache_pos, attn_mask):
    return q.new_empty(q.shape)
