"""llama.cpp TQ2_0 bytes: 2-bit ternary codes in blocks of 256 weights + one fp16 scale (2.0625 bpw).

Why this layout: unpacking is one shift and one mask per weight, and the codes (trit + 1 in
{0, 1, 2}) feed a u8 x s8 multiply-add directly, so it is the fast ternary format on CPUs with
dot-product instructions. Being llama.cpp's, the bytes also load in any GGUF reader.

This file is only the byte codec: trits + per-block ``d`` in, bytes out, and back, exactly.
Where a ternary weight's scales go (block ``d`` or a side tensor) is decided in ``quant/tq.py``.
Byte order is spelled out in ``PackFormat.TQ2_0``'s docstring and checked against
``gguf.quants.quantize`` in the tests.
"""

from __future__ import annotations

import torch

from edgecpm.errors import QuantError
from edgecpm.quant.blocks import d_from_bytes, d_to_bytes, row_blocks
from edgecpm.quant.formats import TQ2_0_BLOCK_BYTES, TQ_BLOCK

_SHIFTS = torch.tensor([0, 2, 4, 6], dtype=torch.uint8)


def check_tq_k(shape: tuple[int, int], fmt: str) -> None:
    n, k = shape
    if k % TQ_BLOCK:
        raise QuantError(
            f"{fmt} packs blocks of {TQ_BLOCK} weights along the input dim, but the weight has "
            f"shape {(n, k)} (K={k} is not a multiple of {TQ_BLOCK}): pad K with zero columns to "
            f"{-(-k // TQ_BLOCK) * TQ_BLOCK}, or use INT4_G, or keep this tensor unpacked")


def check_tq_operands(trits: torch.Tensor, d: torch.Tensor, fmt: str) -> tuple[int, int]:
    """Shapes and values a TQ codec can take; returns (N, number of 256-blocks per row)."""
    if trits.dim() != 2:
        raise QuantError(f"{fmt}: trits have shape {tuple(trits.shape)}, expected 2-D [out, in]")
    n, k = trits.shape
    check_tq_k((n, k), fmt)
    nb = k // TQ_BLOCK
    if tuple(d.shape) != (n, nb):
        raise QuantError(f"{fmt}: block scales have shape {tuple(d.shape)}, expected {(n, nb)} "
                         f"(one per {TQ_BLOCK} weights of each row)")
    if trits.is_floating_point() or bool((trits.abs() > 1).any()):
        raise QuantError(f"{fmt}: trits must be integers in {{-1, 0, 1}}")
    return n, nb


def pack_tq2_0(trits: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """Trits int ``[N, K]`` + fp16 block scales ``[N, K/256]`` → uint8 ``[N, K/256 * 66]``."""
    n, nb = check_tq_operands(trits, d, "TQ2_0")
    # [N, B, j=2, l=4, m=32]: weight 128*j + 32*l + m goes to byte 32*j + m, bits 2l.
    codes = (trits.to(torch.int16) + 1).to(torch.uint8).reshape(n, nb, 2, 4, 32)
    shifted = codes << _SHIFTS.to(codes.device).reshape(1, 1, 1, 4, 1)
    qs = shifted[..., 0, :] | shifted[..., 1, :] | shifted[..., 2, :] | shifted[..., 3, :]
    blocks = torch.cat([qs.reshape(n, nb, 64), d_to_bytes(d)], dim=-1)
    return blocks.reshape(n, nb * TQ2_0_BLOCK_BYTES)


def unpack_tq2_0(data: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse of ``pack_tq2_0``: uint8 ``[N, B*66]`` → (int8 trits ``[N, B*256]``, fp16 ``d`` ``[N, B]``)."""
    blocks = row_blocks(data, TQ2_0_BLOCK_BYTES, "TQ2_0")
    n, nb, _ = blocks.shape
    qs = blocks[..., :64].reshape(n, nb, 2, 1, 32)
    codes = (qs >> _SHIFTS.to(qs.device).reshape(1, 1, 1, 4, 1)) & 0x3
    if bool((codes == 3).any()):
        raise QuantError("TQ2_0: packed data holds code 3, which no trit encodes; the bytes are corrupt")
    trits = codes.reshape(n, nb * TQ_BLOCK).to(torch.int8) - 1
    return trits, d_from_bytes(blocks[..., 64:])
