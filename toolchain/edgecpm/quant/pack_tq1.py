"""llama.cpp TQ1_0 bytes: five trits per byte in blocks of 256 weights + one fp16 scale (1.6875 bpw).

Why: 3^5 = 243 <= 256, so five trits fit a byte (1.6 bits) against TQ2_0's four; the smallest
ternary layout that still decodes with no division. The five codes c0..c4 (trit + 1) form the
base-3 number v = 81 c0 + 27 c1 + 9 c2 + 3 c3 + c4, and the byte stores v / 243 as an 8-bit
fraction, rounded up: ``b = ceil(256 v / 243)``. Multiplying that fraction by 3 moves the next
base-3 digit into the integer part, so trit n is ``((b * 3^n) mod 256) * 3 >> 8`` (mod 256 being
a plain u8 multiply). Rounding up (not to nearest) is what keeps every digit from reading one
too low after the truncations.

Per block: 32 bytes x 5 trits (weights 0..159), 16 bytes x 5 (160..239), 4 bytes x 4 (240..255,
c4 = 0), then fp16 ``d``: 48 + 4 + 2 = 54 bytes. Byte order is spelled out in
``PackFormat.TQ1_0``'s docstring and checked against ``gguf.quants.quantize`` in the tests.
This file is only the byte codec; where scales go is ``quant/tq.py``'s business.
"""

from __future__ import annotations

import torch

from edgecpm.quant.formats import TQ1_0_BLOCK_BYTES, TQ_BLOCK
from edgecpm.quant.blocks import d_from_bytes, d_to_bytes, row_blocks
from edgecpm.quant.pack_tq2 import check_tq_operands

_POW3 = (81, 27, 9, 3, 1)  # weight of trit n (n = 0 most significant) in v
# The three byte runs of a block: (first weight, bytes in the run, trits per byte).
_RUNS = ((0, 32, 5), (160, 16, 5), (240, 4, 4))


def _encode(codes: torch.Tensor, per_byte: int) -> torch.Tensor:
    """codes ``[..., per_byte, nbytes]`` (trit n of byte m at ``[..., n, m]``) → uint8 ``[..., nbytes]``."""
    w = torch.tensor(_POW3[:per_byte], dtype=torch.int32, device=codes.device).reshape(per_byte, 1)
    v = (codes.to(torch.int32) * w).sum(dim=-2)
    return ((v * 256 + 242) // 243).to(torch.uint8)  # ceil(256 v / 243), at most 255


def _decode(b: torch.Tensor, per_byte: int) -> torch.Tensor:
    """uint8 ``[..., nbytes]`` → codes ``[..., per_byte, nbytes]``."""
    pow3 = torch.tensor([3 ** n for n in range(per_byte)], dtype=torch.int32, device=b.device)
    frac = (b.to(torch.int32).unsqueeze(-2) * pow3.reshape(per_byte, 1)) & 0xFF
    return (frac * 3) >> 8


def pack_tq1_0(trits: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """Trits int ``[N, K]`` + fp16 block scales ``[N, K/256]`` → uint8 ``[N, K/256 * 54]``."""
    n, nb = check_tq_operands(trits, d, "TQ1_0")
    codes = (trits.to(torch.int16) + 1).reshape(n, nb, TQ_BLOCK)
    parts = [_encode(codes[..., s:s + nbytes * per].reshape(n, nb, per, nbytes), per)
             for s, nbytes, per in _RUNS]
    blocks = torch.cat([*parts, d_to_bytes(d)], dim=-1)
    return blocks.reshape(n, nb * TQ1_0_BLOCK_BYTES)


def unpack_tq1_0(data: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse of ``pack_tq1_0``: uint8 ``[N, B*54]`` → (int8 trits ``[N, B*256]``, fp16 ``d`` ``[N, B]``)."""
    blocks = row_blocks(data, TQ1_0_BLOCK_BYTES, "TQ1_0")
    n, nb, _ = blocks.shape
    codes, off = [], 0
    for _, nbytes, per in _RUNS:
        codes.append(_decode(blocks[..., off:off + nbytes], per).reshape(n, nb, per * nbytes))
        off += nbytes
    # Every byte decodes to codes in {0, 1, 2} ((x * 3) >> 8 <= 2), so there is nothing to reject.
    trits = torch.cat(codes, dim=-1).reshape(n, nb * TQ_BLOCK).to(torch.int8) - 1
    return trits, d_from_bytes(blocks[..., off:])
