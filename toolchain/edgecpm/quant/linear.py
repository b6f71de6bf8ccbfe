"""Modules that stand in for ``nn.Linear`` with packed weights, each calling one custom op.

Their buffers are the quantized checkpoint's tensors under the linear's name (``….packed``,
``….scales``; ``….qweight``, ``….scales``, ``….zeros``), so ``state_dict()`` is the checkpoint and
loading needs no renaming. Optional tensors (side scales, zero points) are absent buffers (None).
"""

from __future__ import annotations

import torch
from torch import nn

from edgecpm.quant import ops
from edgecpm.quant.config import Int4Config, TernaryConfig
from edgecpm.quant.formats import TQ_BLOCK
from edgecpm.quant.int4 import Int4Weight, quantize_int4
from edgecpm.quant.ternary import TernaryWeight, ternary_at_group_size
from edgecpm.quant.tq import TQPacked, pack_ternary


class TernaryLinear(nn.Module):
    def __init__(self, in_features: int, out_features: int, packed: torch.Tensor,
                 scales: torch.Tensor | None, layout: int, group_size: int):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.layout, self.group_size = layout, group_size
        self.register_buffer("packed", packed)
        self.register_buffer("scales", scales)

    @classmethod
    def from_ternary(cls, tw: TernaryWeight, cfg: TernaryConfig) -> "TernaryLinear":
        p = pack_ternary(tw, cfg.pack_format)
        n, k = p.shape
        # Without side scales every 256-block carries its own fp16 d: the op's group is the block.
        return cls(k, n, p.data, p.side_scales, ops.TERNARY_LAYOUTS.index(p.format),
                   p.group_size if p.side_scales is not None else TQ_BLOCK)

    @classmethod
    def from_float(cls, weight: torch.Tensor, cfg: TernaryConfig) -> "TernaryLinear":
        return cls.from_ternary(ternary_at_group_size(weight, cfg.group_size or None, cfg.detect), cfg)

    def packed_weight(self) -> TQPacked:
        fmt = ops.TERNARY_LAYOUTS[self.layout]
        return TQPacked(fmt, self.packed, self.scales, self.group_size,
                        (self.out_features, self.in_features), torch.float32)

    def forward(self, x):
        return torch.ops.edgecpm.ternary_linear(x, self.packed, self.scales, self.layout, self.group_size)

    def extra_repr(self):
        fmt = ops.TERNARY_LAYOUTS[self.layout].name
        return f"{self.in_features}, {self.out_features}, {fmt}, group_size={self.group_size}"


class Int4Linear(nn.Module):
    def __init__(self, in_features: int, out_features: int, qweight: torch.Tensor, scales: torch.Tensor,
                 zeros: torch.Tensor | None, group_size: int):
        super().__init__()
        self.in_features, self.out_features, self.group_size = in_features, out_features, group_size
        self.register_buffer("qweight", qweight)
        self.register_buffer("scales", scales)
        self.register_buffer("zeros", zeros)

    @classmethod
    def from_int4(cls, q: Int4Weight) -> "Int4Linear":
        n, k = q.shape
        return cls(k, n, q.qweight, q.scales, q.zeros, q.group_size)

    @classmethod
    def from_float(cls, weight: torch.Tensor, cfg: Int4Config) -> "Int4Linear":
        return cls.from_int4(quantize_int4(weight, cfg.group_size, cfg.symmetric))

    def int4_weight(self) -> Int4Weight:
        return Int4Weight(self.qweight, self.scales, self.zeros, self.group_size)

    def forward(self, x):
        return torch.ops.edgecpm.int4_linear(x, self.qweight, self.scales, self.zeros, self.group_size)

    def extra_repr(self):
        kind = "sym" if self.zeros is None else "asym"
        return f"{self.in_features}, {self.out_features}, int4 {kind}, group_size={self.group_size}"


def linear_from_tensors(scheme: str, layout: str, tensors: dict[str, torch.Tensor]) -> nn.Module:
    """Rebuild a quantized linear from its checkpoint tensors (keys without the module prefix).

    Shapes carry everything else: K from the packed row length, the group size from the number
    of scale columns; an absent ``scales`` (ternary) or ``zeros`` (int4) means "not needed".
    """
    if scheme == "ternary":
        fmt = TernaryConfig(layout=layout).pack_format
        packed, scales = tensors["packed"], tensors.get("scales")
        n, k = packed.shape[0], packed.shape[1] // ops.TQ_BLOCK_BYTES[fmt] * 256
        group = k // scales.shape[1] if scales is not None else TQ_BLOCK
        return TernaryLinear(k, n, packed, scales, ops.TERNARY_LAYOUTS.index(fmt), group)
    qweight, scales = tensors["qweight"], tensors["scales"]
    n, k = qweight.shape[0], qweight.shape[1] * 2
    return Int4Linear(k, n, qweight, scales, tensors.get("zeros"), k // scales.shape[1])


class Int8Linear(nn.Module):
    """A quantized LM head: int8 in groups of 32 along K (llama.cpp Q8_0 values)."""

    def __init__(self, qweight: torch.Tensor, scales: torch.Tensor):
        super().__init__()
        self.out_features, self.in_features = qweight.shape
        self.register_buffer("qweight", qweight)
        self.register_buffer("scales", scales)

    def forward(self, x):
        return torch.ops.edgecpm.int8_linear(x, self.qweight, self.scales)


class QuantizedEmbedding(nn.Module):
    """An embedding table stored int8 (Q8_0 values) or int4 (INT4_G); rows dequantized on lookup.

    ``head()`` returns the matching linear over the same buffers, for a tied LM head.
    """

    def __init__(self, kind: str, tensors: dict[str, torch.Tensor], out_dtype: torch.dtype):
        super().__init__()
        self.kind, self.out_dtype = kind, out_dtype
        self.register_buffer("qweight", tensors["qweight"])
        self.register_buffer("scales", tensors["scales"])
        self.register_buffer("zeros", tensors.get("zeros"))
        k = self.qweight.shape[1] * (2 if kind == "int4" else 1)
        self.group_size = k // self.scales.shape[1]

    def forward(self, ids):
        if self.kind == "int8":
            rows = torch.ops.edgecpm.int8_embedding(ids, self.qweight, self.scales)
        else:
            rows = torch.ops.edgecpm.int4_embedding(ids, self.qweight, self.scales, self.zeros, self.group_size)
        return rows.to(self.out_dtype)

    def head(self) -> nn.Module:
        if self.kind == "int8":
            return Int8Linear(self.qweight, self.scales)
        return Int4Linear(self.qweight.shape[1] * 2, self.qweight.shape[0], self.qweight, self.scales,
                          self.zeros, self.group_size)


def quantize_table(weight: torch.Tensor, kind: str) -> dict[str, torch.Tensor]:
    """An embedding table or LM head → its checkpoint tensors (``qweight``, ``scales``)."""
    from edgecpm.quant.int8 import quantize_int8

    if kind == "int8":
        q = quantize_int8(weight)
        return {"qweight": q.qweight, "scales": q.scales}
    q = quantize_int4(weight, 32, symmetric=True)  # INT4 sym g32 = llama.cpp Q4_0 values
    return {"qweight": q.qweight, "scales": q.scales}
