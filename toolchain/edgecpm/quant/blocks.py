"""What every packed format shares: the 2-D weight check, per-group expansion, fp16 scales as
bytes, and rows of fixed-size blocks. The ternary, int4 and int8 codecs each build on these, so a
block layout is read and checked the same way whichever scheme wrote it."""

from __future__ import annotations

import torch

from edgecpm.errors import QuantError


def check_2d(w: torch.Tensor, what: str = "weight") -> tuple[int, int]:
    if w.dim() != 2:
        raise QuantError(
            f"{what} has shape {tuple(w.shape)}: quantizers take a 2-D [out, in] linear weight; "
            "reshape it to 2-D first (or leave this tensor unquantized)")
    return tuple(w.shape)


def expand_groups(per_group: torch.Tensor, group_size: int) -> torch.Tensor:
    """``[N, G]`` → ``[N, G * group_size]``, each group's value repeated over its columns."""
    return per_group.repeat_interleave(group_size, dim=1)


def d_to_bytes(d: torch.Tensor) -> torch.Tensor:
    """fp16 scales ``[N, B]`` → their little-endian bytes ``[N, B, 2]``."""
    n, nb = d.shape
    return d.to(torch.float16).contiguous().view(torch.uint8).reshape(n, nb, 2)


def d_from_bytes(b: torch.Tensor) -> torch.Tensor:
    """Bytes ``[N, B, 2]`` → fp16 ``[N, B]``."""
    n, nb, _ = b.shape
    return b.contiguous().reshape(n, nb * 2).view(torch.float16)


def row_blocks(data: torch.Tensor, block_bytes: int, fmt: str) -> torch.Tensor:
    """Bytes ``[N, B * block_bytes]`` → ``[N, B, block_bytes]``, with a clear error otherwise."""
    if data.dtype != torch.uint8 or data.dim() != 2 or data.shape[1] % block_bytes:
        raise QuantError(f"{fmt}: packed data {tuple(data.shape)} {data.dtype} is not uint8 "
                         f"[N, blocks * {block_bytes}]; was it written by another format?")
    n, nbytes = data.shape
    return data.reshape(n, nbytes // block_bytes, block_bytes)
