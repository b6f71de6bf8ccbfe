"""``edgecpm::cache_write``: rows of a static cache written in place, one op.

``cache[:, :, slots[t]] = values[:, :, t]`` on a model buffer exports, through functionalization,
as an out-of-place ``index_put`` into a copy of the whole buffer and a ``copy_`` back: two copies
of every layer's cache per call, which at long contexts cost more than the attention they feed
(an 8B layer's K cache at 32K slots is 32 MiB). This op writes the rows in place (``Tensor(a!)``:
ExecuTorch keeps it as a mutation of the buffer, no copy), as ``edgecpm::cached_attention`` does
for the dense path. Used for the sparse path's K/V and compressed-key caches and for the cache
moves after a tree verification.

Arguments: ``cache`` [B, H, S, D] float32, mutated; ``values`` [B, H, T, D]; ``slots`` [T] int64,
each in 0..S-1 (a slot listed twice gets its last row). Returns ``values`` (a copy): an op must
return something, and a [B, H, T, D] copy costs what the write does.
"""

from __future__ import annotations

import torch

torch.library.define("edgecpm::cache_write", "(Tensor(a!) cache, Tensor values, Tensor slots) -> Tensor")
torch.library.define("edgecpm::cache_write.out",
                     "(Tensor(a!) cache, Tensor values, Tensor slots, *, Tensor(b!) out) -> Tensor(b!)")


def cache_write_reference(cache: torch.Tensor, values: torch.Tensor, slots: torch.Tensor) -> torch.Tensor:
    cache[:, :, slots] = values.to(cache.dtype)
    return values.clone()


@torch.library.impl("edgecpm::cache_write", "CompositeExplicitAutograd")
def _cache_write(cache, values, slots):
    return cache_write_reference(cache, values, slots)


@torch.library.register_fake("edgecpm::cache_write")
def _(cache, values, slots):
    return values.new_empty(values.shape)
