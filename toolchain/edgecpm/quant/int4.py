"""Group-wise int4 round-to-nearest, edgecpm's kernel nibble layout, and llama.cpp Q4_0 bytes.

One code domain for both flavours: a weight is ``(code - zero) * scale`` with ``code`` an
unsigned nibble in [0, 15]. A kernel then has one dequant path (Marlin-style); symmetric is the
case zero = 8.

- Symmetric (MiniCPM4's release recipe: group 128, sym): the group's scale is its *signed*
  absmax divided by -8 (llama.cpp Q4_0's rule), so the largest-magnitude weight lands exactly on
  q = -8 and the rest on q in [-8, 7]; only a weight of the opposite sign with
  |w| > 15/16 absmax clips (to 7). Against ``absmax / 7`` this uses all 16 levels instead of 15:
  +1.0 dB SQNR on Gaussian weights at g32..g128 (21.3 vs 20.3 dB at g32). The scale may be
  negative; kernels do not care.
- Asymmetric: the range [min(w, 0), max(w, 0)] is split in 15 steps and zero = round(-min /
  scale), so 0.0 is exactly representable (GPTQ's convention) and the zero point is an integer
  in [0, 15]. It wins on weights that are not centred on 0.

Scales are fp16 and the codes are rounded against the *stored* fp16 scale (so what the kernel
multiplies is what the rounding saw). Rounding is ``torch.round`` (ties to even).

INT4_G layout (kernel-friendly, see ``PackFormat.INT4_G``): ``qweight`` uint8 ``[N, K/2]``
row-major, low nibble = even k, high nibble = odd k; ``scales`` fp16 ``[N, K/group]``;
``zeros`` uint8 ``[N, K/group]`` (one byte per zero point, asymmetric only; ``None`` = 8).

Q4_0 (``quantize_q4_0``) keeps llama.cpp's reference arithmetic exactly (fp32 ``d`` for the
rounding, ``trunc(x / d + 8.5)``, stored fp16 ``d``) so its bytes equal
``gguf.quants.quantize(w, Q4_0)``; that is why it is a separate function from ``quantize_int4``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from edgecpm.errors import QuantError
from edgecpm.quant.formats import INT4_GROUP_SIZES, Q4_0_BLOCK, Q4_0_BLOCK_BYTES
from edgecpm.quant.blocks import check_2d, d_from_bytes, d_to_bytes, expand_groups, row_blocks

SYM_ZERO = 8


@dataclass
class Int4Weight:
    """INT4_G: ``W[n, k] = (code[n, k] - zero[n, g]) * scales[n, g]`` with ``g = k // group_size``."""

    qweight: torch.Tensor        # uint8 [N, K/2]: low nibble = even k, high nibble = odd k
    scales: torch.Tensor         # fp16 [N, K/group_size]
    zeros: torch.Tensor | None   # uint8 [N, K/group_size] in [0, 15]; None = symmetric (zero 8)
    group_size: int

    @property
    def symmetric(self) -> bool:
        return self.zeros is None

    @property
    def shape(self) -> tuple[int, int]:
        return self.qweight.shape[0], self.qweight.shape[1] * 2


def check_int4_shape(shape: tuple[int, int], group_size: int) -> None:
    n, k = shape
    if group_size not in INT4_GROUP_SIZES:
        raise QuantError(f"int4 group size {group_size} is not supported for weight {tuple(shape)}: "
                         f"use one of {INT4_GROUP_SIZES}")
    if k % group_size:
        fits = [g for g in INT4_GROUP_SIZES if k % g == 0]
        hint = f"use group size {fits[-1]}" if fits else f"pad K to a multiple of {group_size}"
        raise QuantError(f"weight {tuple(shape)}: the input dim K={k} is not a multiple of int4 "
                         f"group size {group_size}; {hint}, or keep this tensor unquantized")


def int4_params(x: torch.Tensor, symmetric: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale (fp16) and zero point (uint8) of each group; the group is ``x``'s last dim.

    Returns tensors of shape ``x.shape[:-1]``. Zero is 8 for symmetric.
    """
    x = x.detach().to(torch.float32)
    if symmetric:
        peak = x.gather(-1, x.abs().argmax(dim=-1, keepdim=True)).squeeze(-1)
        scale = (peak / -8).to(torch.float16)
        zero = torch.full_like(scale, SYM_ZERO, dtype=torch.uint8)
    else:
        lo = x.amin(dim=-1).clamp(max=0)
        hi = x.amax(dim=-1).clamp(min=0)
        scale = ((hi - lo) / 15).to(torch.float16)
        s = scale.float()
        zero = torch.where(s > 0, torch.round(-lo / torch.where(s > 0, s, 1)), 0).clamp(0, 15)
        zero = zero.to(torch.uint8)
    if not bool(torch.isfinite(scale).all()):
        raise QuantError(f"int4: a group of shape {tuple(x.shape)} has weights too large for fp16 "
                         "scales (|w| > 5e5); this is not a plausible linear weight")
    return scale, zero


def int4_codes(x: torch.Tensor, scale: torch.Tensor, zero: torch.Tensor) -> torch.Tensor:
    """Nibble codes (uint8 in [0, 15]) of ``x`` given a scale and zero broadcastable against it."""
    s = scale.to(torch.float32)
    safe = torch.where(s != 0, s, 1)  # a zero scale means an all-zero group: every code = zero
    q = torch.where(s != 0, torch.round(x.to(torch.float32) / safe), 0)
    return (q + zero.to(torch.float32)).clamp_(0, 15).to(torch.uint8)


def pack_int4(codes: torch.Tensor, scales: torch.Tensor, zeros: torch.Tensor | None,
              group_size: int) -> Int4Weight:
    """Codes uint8 ``[N, K]`` (each in [0, 15]) → INT4_G. ``zeros=None`` means symmetric."""
    n, k = check_2d(codes, "int4 codes")
    if k % 2:
        raise QuantError(f"int4 codes {(n, k)}: K must be even to pair nibbles into bytes")
    check_int4_shape((n, k), group_size)
    if codes.is_floating_point() or bool(((codes < 0) | (codes > 15)).any()):
        raise QuantError("int4 codes must be integers in [0, 15]")
    groups = (n, k // group_size)
    if tuple(scales.shape) != groups or (zeros is not None and tuple(zeros.shape) != groups):
        raise QuantError(f"int4: scales/zeros must have shape {groups} for weight {(n, k)}")
    c = codes.to(torch.uint8).reshape(n, k // 2, 2)
    qweight = c[..., 0] | (c[..., 1] << 4)
    return Int4Weight(qweight, scales.to(torch.float16),
                      None if zeros is None else zeros.to(torch.uint8), group_size)


def unpack_int4(p: Int4Weight) -> torch.Tensor:
    """Inverse of ``pack_int4``: the uint8 codes ``[N, K]``."""
    n = p.qweight.shape[0]
    return torch.stack([p.qweight & 0xF, p.qweight >> 4], dim=-1).reshape(n, -1)


def dequantize_int4(p: Int4Weight, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    codes = unpack_int4(p).to(torch.float32)
    zeros = (torch.full_like(p.scales, SYM_ZERO, dtype=torch.float32) if p.zeros is None
             else p.zeros.to(torch.float32))
    w = (codes - expand_groups(zeros, p.group_size)) * expand_groups(p.scales.float(), p.group_size)
    return w.to(dtype)


def quantize_int4(w: torch.Tensor, group_size: int = 128, symmetric: bool = True) -> Int4Weight:
    """Round-to-nearest group-wise int4 of a float ``[N, K]`` weight (groups along K)."""
    n, k = check_2d(w)
    check_int4_shape((n, k), group_size)
    wg = w.detach().to(torch.float32).reshape(n, k // group_size, group_size)
    scale, zero = int4_params(wg, symmetric)
    codes = int4_codes(wg, scale.unsqueeze(-1), zero.unsqueeze(-1)).reshape(n, k)
    return pack_int4(codes, scale, None if symmetric else zero, group_size)


# --- llama.cpp Q4_0 -------------------------------------------------------------------------


def _check_q4_0_shape(t: torch.Tensor, what: str) -> tuple[int, int]:
    n, k = check_2d(t, what)
    if k % Q4_0_BLOCK:
        raise QuantError(f"Q4_0 packs blocks of {Q4_0_BLOCK} weights along the input dim, but the "
                         f"weight has shape {(n, k)}: pad K to a multiple of {Q4_0_BLOCK} or use "
                         "INT4_G with a group size dividing K")
    return n, k


def pack_q4_0(q: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """q int ``[N, K]`` in [-8, 7] + fp16 ``d`` ``[N, K/32]`` → Q4_0 bytes uint8 ``[N, K/32 * 18]``.

    Block: fp16 d, then byte m (0..15) = (q[m] + 8) | (q[m + 16] + 8) << 4.
    """
    n, k = _check_q4_0_shape(q, "Q4_0 codes")
    nb = k // Q4_0_BLOCK
    if tuple(d.shape) != (n, nb):
        raise QuantError(f"Q4_0: scales have shape {tuple(d.shape)}, expected {(n, nb)}")
    if q.is_floating_point() or bool(((q < -8) | (q > 7)).any()):
        raise QuantError("Q4_0: codes must be integers in [-8, 7]")
    c = (q.to(torch.int16) + 8).to(torch.uint8).reshape(n, nb, 2, 16)
    qs = c[:, :, 0] | (c[:, :, 1] << 4)
    return torch.cat([d_to_bytes(d), qs], dim=-1).reshape(n, nb * Q4_0_BLOCK_BYTES)


def unpack_q4_0(data: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse of ``pack_q4_0``: → (int8 q ``[N, K]`` in [-8, 7], fp16 d ``[N, K/32]``)."""
    blocks = row_blocks(data, Q4_0_BLOCK_BYTES, "Q4_0")
    n, nb, _ = blocks.shape
    qs = blocks[..., 2:]
    q = torch.stack([qs & 0xF, qs >> 4], dim=2).reshape(n, nb * Q4_0_BLOCK).to(torch.int8) - 8
    return q, d_from_bytes(blocks[..., :2])


def dequantize_q4_0(data: torch.Tensor) -> torch.Tensor:
    q, d = unpack_q4_0(data)
    return q.float() * expand_groups(d.float(), Q4_0_BLOCK)


def quantize_q4_0(w: torch.Tensor) -> torch.Tensor:
    """llama.cpp's ``quantize_row_q4_0_ref`` on a float ``[N, K]`` weight → Q4_0 bytes.

    Byte-identical to ``gguf.quants.quantize(w, Q4_0)``: d = (signed absmax) / -8 in fp32, codes
    = min(15, trunc(w * (1/d) + 8.5)), and only then d is rounded to fp16 for storage.
    """
    n, k = _check_q4_0_shape(w, "weight")
    x = w.detach().to(torch.float32).reshape(n, k // Q4_0_BLOCK, Q4_0_BLOCK)
    peak = x.gather(-1, x.abs().argmax(dim=-1, keepdim=True))
    d = peak / -8
    inv = torch.where(d != 0, 1 / torch.where(d != 0, d, 1), 0)
    codes = torch.trunc(x * inv + 8.5).clamp(0, 15)
    q = (codes.to(torch.int16) - 8).reshape(n, k)
    return pack_q4_0(q, d.squeeze(-1).to(torch.float16))
