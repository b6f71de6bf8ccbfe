"""The rotary embedding's rotation (NeoX layout, as the official MiniCPM4 code): the tables are
the model's business (``model/rope.py``); applying them lives here, beside the attention ops that
fold it in (``cached_attention``)."""

from __future__ import annotations

import torch


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x: [B, H, T, D]; cos/sin: [T, D] fp32. Rotation in fp32, result in x's dtype."""
    xf = x.float()
    return (xf * cos + rotate_half(xf) * sin).to(x.dtype)
