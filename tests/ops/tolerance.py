"""One tolerance for every op and implementation: fp32 summation order.

Every implementation computes the op's definition in fp32, summing in its own order; the
definition is evaluated in float64. The rounding error of a sum is bounded by a small multiple of
float32's epsilon times the sum of the absolute values of its terms, so an output may differ from
the definition by at most ``ROUNDING * magnitude``, where ``magnitude`` is that sum of |terms|
(for a linear ``|x_q| @ |W|^T``, for attention the softmax-weighted sum of ``|v|``; for an
element-wise op the output itself). A lookup sums nothing: its magnitude is 0, and it must be exact.
Near float32's underflow relative precision ends (silu of a gate under -87 multiplies by an exp
that underflowed), so the bound never drops under ``FLOOR``, far below any output of interest.
"""

from __future__ import annotations

import torch

ROUNDING = 1e-5  # ~170 float32 epsilons: sums of a few thousand terms in any order
FLOOR = 1e-30


def assert_within_rounding(got: torch.Tensor, definition: torch.Tensor, magnitude: torch.Tensor, what: str = ""):
    assert got.shape == definition.shape, f"{what}: shape {tuple(got.shape)} != {tuple(definition.shape)}"
    excess = (got.double() - definition).abs() - (ROUNDING * magnitude).clamp(min=FLOOR)
    worst = excess.max().item()
    assert worst <= 0, (f"{what}: off by {worst:.3g} more than {ROUNDING:g} x sum|terms| "
                        f"(max |got - definition| {(got.double() - definition).abs().max().item():.3g})")
