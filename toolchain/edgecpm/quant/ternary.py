"""BitCPM ternary weights: the absmean quantizer, and exact recovery of fake-quantised checkpoints.

Two ways in, one representation out (``TernaryWeight``: int8 trits + one scale per group along
the input dim):

- ``quantize_ternary`` is BitCPM's absmean quantizer, per group: ``s = max(mean|W_g|, eps)``,
  ``q = clamp(round(W / s), -1, 1)``, weight ``q * s``. Any group size (32/64/128/256, or
  per-channel = the whole row). Scales are stored as fp16, and the trits are computed against
  the *stored* fp16 scale, so what the kernel multiplies is what the rounding saw. It is lossy
  (about 5.8 dB SQNR on Gaussian weights); after-training ternarisation of a normal model
  destroys it, which is why BitCPM is trained quantisation-aware.
- ``detect_ternary`` reads a checkpoint that is *already* ternary: the released BitCPM4 weights
  are fake-quantised bf16, ``trit * scale`` per group, so each group holds at most three values
  {-a, 0, a}. It recovers (trits, a) exactly, with no rounding at all: ``a`` is the group's
  absmax read in the input dtype and the trits are signs.

How the round trip stays bit-exact: dequantisation computes ``trit * scale`` in the original
dtype, and a product by -1, 0 or +1 is exact in every float format. So the scale only has to
survive storage. It is stored as fp16 when every scale converts to fp16 and back unchanged;
otherwise it is kept in the input's dtype (``TernaryWeight.scales.dtype`` says which). For bf16
checkpoints fp16 is nearly always exact: bf16 has 8 significant bits and fp16 11, so every bf16
value in [2^-17, 65280] is an fp16 value, and weight scales (~1e-3..1) sit well inside. fp32
checkpoints keep fp32 scales unless theirs happen to be fp16 values.

Not kept: the sign of zero. A fake-quantised weight can hold -0.0 (``round`` of a small negative
number), which comes back as +0.0: the same weight to every kernel, but a different bit pattern.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from edgecpm.errors import QuantError
from edgecpm.quant.blocks import check_2d, expand_groups
from edgecpm.quant.formats import TERNARY_GROUP_SIZES

# The TQ layouts' block: each 256-block carries its own fp16 scale, so the bytes are plain
# llama.cpp TQ1_0/TQ2_0 (GGUF-exportable) with no side tensor. Also BitCPM QAT's group.
DEFAULT_GROUP_SIZE = 256
DEFAULT_EPS = 1e-5
_FP16_TINY = 2.0 ** -24  # smallest positive fp16 (subnormal): a stored scale must not flush to 0


@dataclass
class TernaryWeight:
    """A ternary ``[N, K]`` weight: ``W[n, k] = trits[n, k] * scales[n, k // group_size]``."""

    trits: torch.Tensor   # int8 [N, K], values in {-1, 0, 1}
    scales: torch.Tensor  # [N, K // group_size]; fp16, or the source dtype when fp16 is not exact
    group_size: int       # along K; equal to K for per-channel
    dtype: torch.dtype    # dtype of the weight it stands for; dequantize_ternary returns this

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.trits.shape)

    @property
    def per_channel(self) -> bool:
        return self.group_size == self.trits.shape[1]


def resolve_group_size(shape: tuple[int, int], group_size: int | None,
                       allowed: tuple[int, ...] = TERNARY_GROUP_SIZES) -> int:
    """``None`` means per-channel (the whole input row); otherwise it must divide K."""
    n, k = shape
    if group_size is None or group_size == k:
        return k
    if group_size not in allowed:
        raise QuantError(f"group size {group_size} is not supported for weight {tuple(shape)}: "
                         f"use one of {allowed} or per-channel")
    if k % group_size:
        raise QuantError(
            f"weight {tuple(shape)}: the input dim K={k} is not a multiple of group size "
            f"{group_size}; use a group size that divides {k}, or per-channel")
    return group_size


def quantize_ternary(w: torch.Tensor, group_size: int | None = DEFAULT_GROUP_SIZE,
                     eps: float = DEFAULT_EPS) -> TernaryWeight:
    """BitCPM absmean ternarisation of a float ``[N, K]`` weight (``group_size=None``: per-channel)."""
    n, k = check_2d(w)
    g = resolve_group_size((n, k), group_size)
    wg = w.detach().to(torch.float32).reshape(n, k // g, g)
    s = wg.abs().mean(dim=-1).clamp_min(max(eps, _FP16_TINY))
    s16 = s.to(torch.float16)
    if not torch.isfinite(s16).all():
        raise QuantError(f"weight {(n, k)}: a group's mean |w| overflows fp16 scales (> 65504); "
                         "the tensor is not a plausible linear weight")
    q = torch.round(wg / s16.float().unsqueeze(-1)).clamp_(-1, 1)
    return TernaryWeight(q.reshape(n, k).to(torch.int8), s16, g, w.dtype)


def dequantize_ternary(tw: TernaryWeight, dtype: torch.dtype | None = None) -> torch.Tensor:
    """``trits * scale`` in ``dtype`` (default: the source dtype). Exact: trits are -1, 0 or 1."""
    dtype = dtype or tw.dtype
    return tw.trits.to(dtype) * expand_groups(tw.scales.to(dtype), tw.group_size)


def _fits_fp16(x: torch.Tensor) -> bool:
    if x.dtype == torch.float16:
        return True
    back = x.to(torch.float16).to(x.dtype)
    return bool(torch.isfinite(back).all() and torch.equal(back, x))


def _groupwise_ternary(absw: torch.Tensor, g: int) -> torch.Tensor | None:
    """The per-group magnitude ``a`` if every entry of every group is 0 or a, else None."""
    n, k = absw.shape
    ag = absw.reshape(n, k // g, g)
    a = ag.amax(dim=-1)
    ok = (ag == a.unsqueeze(-1)) | (ag == 0)
    return a if bool(ok.all()) else None


def detect_ternary(w: torch.Tensor, group_sizes: tuple[int, ...] | None = None) -> TernaryWeight | None:
    """Recover (trits, scales) from an already-ternary (fake-quantised) weight, or None.

    Tries per-channel first, then 256, 128, 64, 32 (those dividing K; or ``group_sizes``, where
    K means per-channel) and returns the coarsest grouping under which every group holds at
    most the three values {-a, 0, a}: coarser means fewer scales, and a group of 256 or more lets
    the TQ layouts carry the scale in their blocks. ``dequantize_ternary`` of the result equals
    ``w`` bit for bit (up to the sign of zero; see the module docstring).
    """
    n, k = check_2d(w)
    if not w.is_floating_point():
        return None
    w = w.detach()
    if not bool(torch.isfinite(w).all()):
        return None
    candidates = group_sizes or (k, *sorted(TERNARY_GROUP_SIZES, reverse=True))
    absw = w.abs()
    for g in dict.fromkeys(candidates):  # de-duplicated, order kept
        if g <= 0 or k % g:
            continue
        a = _groupwise_ternary(absw, g)
        if a is None:
            continue
        scales = a.to(torch.float16) if _fits_fp16(a) else a
        return TernaryWeight(torch.sign(w).to(torch.int8), scales, g, w.dtype)
    return None


def _label(g: int, k: int) -> str:
    return "0 (per-channel)" if g == k else str(g)


def ternary_at_group_size(w: torch.Tensor, group_size: int | None, detect: bool = True) -> TernaryWeight:
    """``w`` as a TernaryWeight whose groups are exactly ``group_size`` (None: per-channel).

    A float weight is absmean-quantized at that size. A weight that is already ternary (a QAT or
    BitCPM checkpoint, with ``detect``) keeps its own values: re-expressed exactly at
    ``group_size`` when that divides its own grouping (a sub-group of a ternary group is ternary
    with the same scale), refused otherwise: re-quantizing would throw its trained scales away,
    and packing it at its own grouping would make the recorded group size lie about the bytes.
    """
    n, k = check_2d(w)
    g = resolve_group_size((n, k), group_size)
    found = detect_ternary(w) if detect else None
    if found is None:
        return quantize_ternary(w, g)
    if found.group_size % g:
        raise QuantError(f"weight {(n, k)} is already ternary (a QAT/BitCPM checkpoint) with group size "
                         f"{_label(found.group_size, k)}; group size {_label(g, k)} cannot hold its scales "
                         f"without re-quantizing it: pass --group-size {_label(found.group_size, k).split()[0]}")
    return found if found.group_size == g else detect_ternary(w, group_sizes=(g,))
