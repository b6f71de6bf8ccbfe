"""A ternary weight laid out as TQ2_0 / TQ1_0: where its scales go, so that unpacking is exact.

Two different things share the word "scale" here, and this file is where they meet:

- the *quantizer's* groups (``TernaryWeight.group_size``): BitCPM's absmean groups of 32..256
  or per-channel, or whatever grouping ``detect_ternary`` found in a fake-quantised checkpoint;
- the *layout's* blocks: TQ1_0 / TQ2_0 always hold 256 weights with one fp16 ``d`` each.
  (llama.cpp's own TQ quantizers set ``d`` = the block's absmax, not an absmean; for weights
  that are already ternary per 256-block both give the same trits and ``d``.)

The rule:

1. K must be a multiple of 256, else ``QuantError`` (pad K, use INT4_G, or keep the tensor).
2. If the groups are whole blocks (``group_size % 256 == 0``, per-channel included) and the
   scales are fp16, each block's ``d`` is its group's scale: the bytes are plain llama.cpp
   TQ*_0, loadable by any GGUF reader, with no side tensor (``side_scales is None``).
3. Otherwise (groups of 32/64/128, or scales that fp16 cannot hold exactly, e.g. most fp32
   fake-quant checkpoints) every block's ``d`` is 1.0 and the scales travel beside the bytes
   as ``side_scales [N, K / group_size]`` in their own dtype. A GGUF reader then sees the bare
   trits; the true weight is that times the side scale. Cost: +16/group bits per weight (fp16).

Either way ``unpack_ternary(pack_ternary(tw, fmt))`` returns ``tw`` exactly: same trits, same
scales (values and dtype), same group size.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from edgecpm.errors import QuantError
from edgecpm.quant.formats import TQ_BLOCK, PackFormat
from edgecpm.quant.pack_tq1 import pack_tq1_0, unpack_tq1_0
from edgecpm.quant.pack_tq2 import check_tq_k, pack_tq2_0, unpack_tq2_0
from edgecpm.quant.blocks import expand_groups
from edgecpm.quant.ternary import TernaryWeight

_CODECS = {
    PackFormat.TQ2_0: (pack_tq2_0, unpack_tq2_0),
    PackFormat.TQ1_0: (pack_tq1_0, unpack_tq1_0),
}


@dataclass
class TQPacked:
    """Packed ternary weight: llama.cpp TQ bytes, plus side scales when the blocks cannot hold them."""

    format: PackFormat
    data: torch.Tensor                 # uint8 [N, K/256 * block_bytes], row-major
    side_scales: torch.Tensor | None   # [N, K/group_size] (any float dtype) or None (scales in d)
    group_size: int
    shape: tuple[int, int]
    dtype: torch.dtype                 # dtype of the weight it stands for

    @property
    def self_contained(self) -> bool:
        """True when the bytes alone are the weight (a GGUF reader gets it right)."""
        return self.side_scales is None


def _codec(fmt: PackFormat):
    if fmt not in _CODECS:
        raise QuantError(f"{fmt.name} is not a ternary layout: use one of "
                         f"{', '.join(f.name for f in _CODECS)}")
    return _CODECS[fmt]


def pack_ternary(tw: TernaryWeight, fmt: PackFormat = PackFormat.TQ2_0) -> TQPacked:
    pack, _ = _codec(fmt)
    n, k = tw.shape
    check_tq_k((n, k), fmt.name)
    g = tw.group_size
    if g % TQ_BLOCK == 0 and tw.scales.dtype == torch.float16:
        d = tw.scales.repeat_interleave(g // TQ_BLOCK, dim=1)
        side = None
    else:
        d = torch.ones(n, k // TQ_BLOCK, dtype=torch.float16, device=tw.trits.device)
        side = tw.scales.clone()
    return TQPacked(fmt, pack(tw.trits, d), side, g, (n, k), tw.dtype)


def unpack_ternary(p: TQPacked) -> TernaryWeight:
    _, unpack = _codec(p.format)
    trits, d = unpack(p.data)
    if tuple(trits.shape) != tuple(p.shape):
        raise QuantError(f"{p.format.name}: packed data holds {tuple(trits.shape)} weights, "
                         f"the header says {tuple(p.shape)}")
    if p.side_scales is not None:
        return TernaryWeight(trits, p.side_scales.clone(), p.group_size, p.dtype)
    return TernaryWeight(trits, d[:, :: p.group_size // TQ_BLOCK].contiguous(), p.group_size, p.dtype)


def dequantize_tq(p: TQPacked, dtype: torch.dtype | None = None) -> torch.Tensor:
    """The weight the packed bytes stand for (exact; see ``dequantize_ternary``)."""
    tw = unpack_ternary(p)
    dtype = dtype or tw.dtype
    return tw.trits.to(dtype) * expand_groups(tw.scales.to(dtype), tw.group_size)
