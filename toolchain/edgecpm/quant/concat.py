"""Several linears that read the same input as one, their output rows stacked: q/k/v or gate/up
become one GEMV, so the input is quantized once and the thread pool is woken once per group.

Every output row of a linear depends only on its own weight row (and, for the packed ops, on x's
per-32 int8 quantization, which is the same for all of them), so the stacked module's outputs are
the separate outputs, to the bit, in the Python reference and in the kernels alike.
"""

from __future__ import annotations

import torch
from torch import nn

from edgecpm.quant.linear import Int4Linear, TernaryLinear


def _cat(tensors: list[torch.Tensor | None]) -> torch.Tensor | None:
    return None if tensors[0] is None else torch.cat(tensors, dim=0)


def concat_linears(linears: list[nn.Module]) -> nn.Module | None:
    """One module whose output is ``torch.cat([m(x) for m in linears], -1)``, or None when they
    cannot share one op call (different kinds, layouts or group sizes, biases, optional tensors
    present in some only)."""
    first = linears[0]
    if any(type(m) is not type(first) or m.in_features != first.in_features for m in linears):
        return None
    n = sum(m.out_features for m in linears)
    if type(first) is nn.Linear:
        if any(m.bias is not None for m in linears):
            return None
        out = nn.Linear(first.in_features, n, bias=False, device=first.weight.device, dtype=first.weight.dtype)
        out.weight = nn.Parameter(torch.cat([m.weight for m in linears]), requires_grad=False)
        return out
    if isinstance(first, TernaryLinear):
        if any((m.layout, m.group_size, m.scales is None) != (first.layout, first.group_size, first.scales is None)
               for m in linears):
            return None
        return TernaryLinear(first.in_features, n, torch.cat([m.packed for m in linears]),
                             _cat([m.scales for m in linears]), first.layout, first.group_size)
    if isinstance(first, Int4Linear):
        if any((m.group_size, m.zeros is None) != (first.group_size, first.zeros is None) for m in linears):
            return None
        return Int4Linear(first.in_features, n, torch.cat([m.qweight for m in linears]),
                          torch.cat([m.scales for m in linears]), _cat([m.zeros for m in linears]), first.group_size)
    return None
