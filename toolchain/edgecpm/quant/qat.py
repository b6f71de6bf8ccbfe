"""Ternary quantization-aware training (BitCPM style): absmean fake-quant + straight-through.

``FakeTernaryLinear`` computes its forward with the ternary weight ``trit × s`` (absmean ``s``
per group along the input dim) and passes gradients straight through to the float weight. The
scale is rounded to bf16 before the trits are taken: a bf16 scale is also an fp16 value, so the
frozen weights are exactly representable in a bf16 checkpoint — what a BitCPM4 release ships —
and ``detect_ternary`` recovers them bit-exactly into the fp16-scaled TQ layouts. Packing the QAT
model loses nothing.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from edgecpm.quant.ternary import DEFAULT_EPS


def fake_quantized_weight(w: torch.Tensor, group_size: int | None) -> torch.Tensor:
    """``trit × scale`` with a bf16-representable scale, same shape and dtype as ``w``."""
    n, k = w.shape
    g = group_size or k
    wg = w.float().reshape(n, k // g, g)
    s = wg.abs().mean(-1, keepdim=True).clamp_min(DEFAULT_EPS).to(torch.bfloat16).float()
    q = torch.round(wg / s).clamp_(-1, 1)
    return (q * s).reshape(n, k).to(w.dtype)


class FakeTernaryLinear(nn.Linear):
    group_size: int | None = 256

    def forward(self, x):
        w = self.weight
        wq = fake_quantized_weight(w.detach(), self.group_size)
        return nn.functional.linear(x, w + (wq - w).detach())


def prepare_qat_(module: nn.Module, group_size: int | None, include: Callable[[str], bool]) -> list[str]:
    """Turn the chosen linears into FakeTernaryLinear in place (same parameters, new forward)."""
    done = []
    for name, child in module.named_modules():
        if type(child) is nn.Linear and include(name):
            child.__class__ = FakeTernaryLinear
            child.group_size = group_size
            done.append(name)
    return done


@torch.no_grad()
def freeze_qat_(module: nn.Module) -> None:
    """Replace each FakeTernaryLinear's weight by its fake-quantized value; back to nn.Linear."""
    for child in module.modules():
        if isinstance(child, FakeTernaryLinear):
            child.weight.copy_(fake_quantized_weight(child.weight, child.group_size))
            child.__class__ = nn.Linear
