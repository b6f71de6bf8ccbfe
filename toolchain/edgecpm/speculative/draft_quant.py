"""Weight-only quantization of an EAGLE draft head's own linears, for export.

At MiniCPM4-0.5B shapes the draft's one decoder layer plus ``fc`` hold about 19M weights: in
float32 that is ~76 MB streamed per draft call, about half of what a whole ternary base forward
streams, so a float draft costs most of what speculation saves. ``quantize_draft`` stores them
in the kernels' int8 (Q8_0 values) or int4 (symmetric, groups of 32) format. It changes the
draft's proposals (acceptance), never the output: verification is still the base model's.
The shared embedding, norm and LM head stay the base's.
"""

from __future__ import annotations

import torch
from torch import nn

from edgecpm.errors import ConfigError
from edgecpm.quant.int4 import quantize_int4
from edgecpm.quant.int8 import quantize_int8
from edgecpm.quant.linear import Int4Linear, Int8Linear

DRAFT_SCHEMES = ("fp32", "int8", "int4")
_INT4_GROUP = 32


class _WithBias(nn.Module):
    """A bias-free quantized linear plus a float bias (``fc`` has one; the kernels take none)."""

    def __init__(self, linear: nn.Module, bias: torch.Tensor):
        super().__init__()
        self.linear = linear
        self.register_buffer("bias", bias.detach().clone())

    def forward(self, x):
        return self.linear(x) + self.bias


def _quantized(weight: torch.Tensor, scheme: str) -> nn.Module:
    if scheme == "int8":
        q = quantize_int8(weight)
        return Int8Linear(q.qweight, q.scales)
    return Int4Linear.from_int4(quantize_int4(weight, _INT4_GROUP, symmetric=True))


@torch.no_grad()
def quantize_draft(draft: nn.Module, scheme: str) -> list[str]:
    """Replace the draft's own ``nn.Linear`` modules (``fc``, the layer's projections) in place;
    returns their paths. ``fp32`` leaves the draft as it is."""
    if scheme not in DRAFT_SCHEMES:
        raise ConfigError(f"draft quantization {scheme!r}: choose one of {', '.join(DRAFT_SCHEMES)}")
    if scheme == "fp32":
        return []
    done = []
    for name, child in list(draft.named_modules()):
        if not isinstance(child, nn.Linear):
            continue
        new = _quantized(child.weight.float(), scheme)
        if child.bias is not None:
            new = _WithBias(new, child.bias.float())
        parent, _, leaf = name.rpartition(".")
        setattr(draft.get_submodule(parent) if parent else draft, leaf, new)
        done.append(name)
    return done
