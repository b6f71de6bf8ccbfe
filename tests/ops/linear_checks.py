"""What every quantized linear op (ternary, int4, int8) is checked for, on one set of inputs.

The op's definition: ``y = x̂ @ W^T`` with ``x̂`` the int8-per-32 activations (``q * step``,
act_quant.py) and ``W`` the weight its packed arguments stand for, evaluated in float64. Every
implementation must be within fp32 rounding of it (tolerance.py), and every C++ ISA must equal the
scalar kernel to the bit (their integer dot products are exact; the fp32 steps are applied in the
same order).
"""

from __future__ import annotations

import pytest
import torch

from edgecpm.quant.act_quant import quantize_activations
from tests.ops.implementations import Cpp, OpCalls
from tests.ops.inputs import activations
from tests.ops.tolerance import assert_within_rounding


def linear_calls(op: str, *weight_args, k: int) -> OpCalls:
    """``op(x, *weight_args)`` on the decode and prefill activations."""
    return OpCalls(op, [(x, *weight_args) for x in activations(k)])


def definition(x: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(y, sum of |terms|) in float64."""
    q, step = quantize_activations(x)
    xq = (q.double() * step.double()).reshape(x.shape)
    return xq @ w.double().T, xq.abs() @ w.double().abs().T


def check_linear(outputs: list[torch.Tensor], calls: OpCalls, w: torch.Tensor, what: str):
    for y, args in zip(outputs, calls.calls):
        assert y.dtype == torch.float32
        assert_within_rounding(y, *definition(args[0], w), what=f"{what}, M={args[0].shape[1]}")


def check_equals_scalar(simd: Cpp, calls: OpCalls):
    why = simd.unsupported(calls)
    if why:
        pytest.skip(why)
    for got, scalar in zip(simd.run(calls), Cpp("scalar").run(calls)):
        assert torch.equal(got, scalar), f"{simd.name} differs from scalar"
