"""``quantize_(module, config)``: swap the chosen ``nn.Linear`` children for packed ones, in place.

Knows no model: the caller says which linears (``include`` gets each module path). Weights the
caller already quantized (GPTQ, a detected ternary checkpoint) come in through ``prepared``.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from edgecpm.quant.config import QuantConfig, TernaryConfig
from edgecpm.quant.int4 import Int4Weight
from edgecpm.quant.linear import Int4Linear, TernaryLinear
from edgecpm.quant.ternary import TernaryWeight


def quantized_linear(weight: torch.Tensor, config: QuantConfig) -> nn.Module:
    if isinstance(config, TernaryConfig):
        return TernaryLinear.from_float(weight, config)
    return Int4Linear.from_float(weight, config)


def from_prepared(q: Int4Weight | TernaryWeight, config: QuantConfig) -> nn.Module:
    if isinstance(q, Int4Weight):
        return Int4Linear.from_int4(q)
    return TernaryLinear.from_ternary(q, config)


def set_submodule(root: nn.Module, path: str, new: nn.Module) -> None:
    parent, _, leaf = path.rpartition(".")
    setattr(root.get_submodule(parent) if parent else root, leaf, new)


@torch.no_grad()
def quantize_(module: nn.Module, config: QuantConfig, include: Callable[[str], bool] = lambda _: True,
              prepared: dict[str, Int4Weight | TernaryWeight] | None = None) -> list[str]:
    """Quantize every ``nn.Linear`` under ``module`` whose path passes ``include``; returns the paths."""
    config.validate()
    done = []
    for name, child in list(module.named_modules()):
        if not isinstance(child, nn.Linear) or not include(name):
            continue
        if child.bias is not None:
            raise ValueError(f"{name}: quantized linears carry no bias (MiniCPM4 has none)")
        if prepared and name in prepared:
            new = from_prepared(prepared[name], config)
        else:
            new = quantized_linear(child.weight, config)
        set_submodule(module, name, new)
        done.append(name)
    return done
