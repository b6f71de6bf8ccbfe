"""The gradients of ``edgecpm::rms_norm`` and ``edgecpm::silu_mul``, which training takes through
them, against their references' own (their kernels: tests/ops/test_norm_and_gate.py)."""

from __future__ import annotations

import torch

from edgecpm.model import fused_ops


def test_gradients_are_the_references():
    g = torch.Generator().manual_seed(1)
    x, w = torch.randn(3, 64, generator=g, requires_grad=True), torch.rand(64, generator=g).requires_grad_()
    gate, up = torch.randn(3, 64, generator=g, requires_grad=True), torch.randn(3, 64, generator=g, requires_grad=True)
    grad = torch.randn(3, 64, generator=g)
    for op, ref, args in ((fused_ops.rms_norm, fused_ops.rms_norm_reference, (x, w)),
                          (fused_ops.silu_mul, fused_ops.silu_mul_reference, (gate, up))):
        extra = (1e-5,) if op is fused_ops.rms_norm else ()
        got = torch.autograd.grad(op(*args, *extra), args, grad)
        want = torch.autograd.grad(ref(*args, *extra), args, grad)
        for a, b in zip(got, want):
            assert torch.allclose(a, b)
