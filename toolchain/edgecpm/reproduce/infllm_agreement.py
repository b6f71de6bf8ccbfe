"""How close InfLLM-v2's sparse attention stays to dense attention on a long input.

Two measures at one decode step (the query at the last position of a ``context``-long cache):

- attention mass kept: the share of dense attention's softmax weight that falls inside the blocks
  the sparse selection picks (the reference ``select_blocks``), averaged over query heads. What
  sparse attention drops is exactly the rest.
- output agreement: cosine similarity and relative L2 error between the kernel's sparse output
  and its dense one (every block selected).

On random keys attention is nearly flat, the worst case for any block selection: most mass is
spread over blocks no selection can hold. Real long-context attention is peaked; the "needle"
input models that by adding the query's direction to the keys of a few far-away blocks, which a
working selection must find.
"""

from __future__ import annotations

import math

import torch

from edgecpm.attention.infllm_v2 import SparseParams, select_blocks


def block_mass(q: torch.Tensor, k: torch.Tensor, block_size: int) -> torch.Tensor:
    """Dense softmax weight per key block: q [1, Hq, 1, D], k [1, Hkv, L, D] -> [1, Hkv, Hq/Hkv, n_blocks]."""
    b, hq, _, d = q.shape
    hkv, length = k.shape[1], k.shape[2]
    qg = q.view(b, hkv, hq // hkv, d)
    p = torch.softmax(torch.einsum("bhgd,bhld->bhgl", qg, k) / math.sqrt(d), dim=-1)
    n_blocks = -(-length // block_size)
    p = torch.nn.functional.pad(p, (0, n_blocks * block_size - length))
    return p.view(b, hkv, hq // hkv, n_blocks, block_size).sum(-1)


def mass_kept(q: torch.Tensor, k: torch.Tensor, ck: torch.Tensor, params: SparseParams) -> float:
    """Mean over query heads of the dense attention mass inside the sparse selection (decode, last position)."""
    length = k.shape[2]
    mass = block_mass(q, k, params.block_size)
    pos = torch.tensor([length - 1])
    chosen = select_blocks(q, ck, pos, params, n_blocks=mass.shape[-1])  # [1, Hkv, 1, n_blocks]
    return (mass * chosen.to(mass.dtype)).sum(-1).mean().item()


def output_agreement(sparse: torch.Tensor, dense: torch.Tensor) -> tuple[float, float]:
    """(cosine similarity, relative L2 error) of two attention outputs, flattened."""
    a, b = sparse.flatten().double(), dense.flatten().double()
    cos = torch.nn.functional.cosine_similarity(a, b, dim=0).item()
    return cos, ((a - b).norm() / b.norm()).item()


def plant_needles(k: torch.Tensor, q: torch.Tensor, params: SparseParams, count: int = 4,
                  strength: float = 3.0, seed: int = 0) -> list[int]:
    """Add each kv head's mean query direction (times ``strength`` * sqrt(D)) to the keys of
    ``count`` blocks outside the forced ones (init and local), in place; returns those blocks."""
    hkv, length, d = k.shape[1], k.shape[2], k.shape[3]
    bs = params.block_size
    last_block = (length - 1) // bs
    candidates = torch.arange(params.init_blocks, last_block - params.local_blocks)
    if candidates.numel() < count:
        raise ValueError(f"a cache of {length} positions has no {count} blocks outside the forced ones")
    g = torch.Generator().manual_seed(seed)
    blocks = candidates[torch.randperm(candidates.numel(), generator=g)[:count]].sort().values.tolist()
    direction = q.view(1, hkv, -1, d).mean(2)                      # [1, Hkv, D]
    direction = direction / direction.norm(dim=-1, keepdim=True)
    for blk in blocks:
        k[:, :, blk * bs:(blk + 1) * bs] += strength * math.sqrt(d) * direction[:, :, None]
    return blocks
