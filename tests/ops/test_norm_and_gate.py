"""``edgecpm::rms_norm`` and ``edgecpm::silu_mul``, the fused element-wise ops of every block. Neither
has a Triton kernel (on a GPU they run their torch reference). Their error is relative to each
output itself: rms_norm scales x by one reduced factor; silu_mul multiplies, and its SIMD exp is a
polynomial. Gates cover the whole range silu sees, including where exp(-x) would overflow."""

from __future__ import annotations

import functools

import torch

import edgecpm.model.fused_ops  # noqa: F401  defines the ops
from edgecpm.model.fused_ops import rms_norm_reference, silu_mul_reference
from tests.ops.implementations import OpCalls
from tests.ops.tolerance import assert_within_rounding

WIDTH, GATE_WIDTH = 1000, 4099  # not multiples of any vector width


@functools.cache
def norm_case():
    g = torch.Generator().manual_seed(0)
    weight = torch.rand(WIDTH, generator=g) + 0.5
    xs = [torch.randn(1, 1, WIDTH, generator=g) * 3, torch.randn(1, 37, WIDTH, generator=g)]
    return OpCalls("rms_norm", [(x, weight, 1e-5) for x in xs])


@functools.cache
def gate_case():
    g = torch.Generator().manual_seed(1)
    calls = [(torch.randn(1, 1, GATE_WIDTH, generator=g) * 30, torch.randn(1, 1, GATE_WIDTH, generator=g)),
             (torch.randn(1, 9, GATE_WIDTH, generator=g) * 4, torch.randn(1, 9, GATE_WIDTH, generator=g))]
    return OpCalls("silu_mul", calls, varying=(0, 1), dynamic={0: 1, 1: 1})


def test_rms_norm_equals_definition(run, impl):
    calls = norm_case()
    for y, (x, w, eps) in zip(run(calls), calls.calls):
        want = rms_norm_reference(x.double(), w.double(), eps)
        assert_within_rounding(y, want, want.abs(), impl.name)


def test_silu_mul_equals_definition(run, impl):
    calls = gate_case()
    for y, (gate, up) in zip(run(calls), calls.calls):
        want = silu_mul_reference(gate.double(), up.double())
        assert_within_rounding(y, want, want.abs(), impl.name)
