"""``edgecpm::rms_norm`` and ``edgecpm::silu_mul``: the C++ kernels (runtime_kernels/src/norm_act.cpp)
as one-op ExecuTorch programs against the Python reference, on every ISA here; and the ops'
gradients, which training takes through them, against the reference's own.

fp32; the kernels sum in lane order (rms_norm) and use the attention table's exp (silu), so they
agree to rounding: 1e-5 relative.
"""

from __future__ import annotations

import torch
from torch import nn

from edgecpm.model import fused_ops
from edgecpm.runtime.kernel_library import set_kernel_isa


class Norm(nn.Module):
    def __init__(self, n: int):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(n) + 0.5, requires_grad=False)

    def forward(self, x):
        return fused_ops.rms_norm(x, self.weight, 1e-5)


class Gate(nn.Module):
    def forward(self, gate, up):
        return fused_ops.silu_mul(gate, up)


def run(module: nn.Module, examples: list[tuple]) -> list[torch.Tensor]:
    from executorch.exir import to_edge_transform_and_lower
    from executorch.runtime import Runtime

    t = torch.export.Dim("t", min=1, max=64)
    dims = tuple({1: t} for _ in examples[0])
    ep = torch.export.export(module, examples[-1], dynamic_shapes=dims, strict=False)  # T > 1: stays dynamic
    program = Runtime.get().load_program(to_edge_transform_and_lower(ep).to_executorch().buffer)
    method = program.load_method("forward")
    return [method.execute(list(e))[0] for e in examples]


def close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return bool(((a - b).abs() <= 1e-5 * b.abs() + 1e-6).all())


def test_kernels_match_reference_on_every_isa(lib):
    g = torch.Generator().manual_seed(0)
    xs = [(torch.randn(1, 1, 1000, generator=g) * 3,), (torch.randn(1, 37, 1000, generator=g),)]
    # Gates over the whole range silu sees, including where exp(-x) would overflow.
    gates = [(torch.randn(1, 1, 4099, generator=g) * 30, torch.randn(1, 1, 4099, generator=g)),
             (torch.randn(1, 9, 4099, generator=g) * 4, torch.randn(1, 9, 4099, generator=g))]
    norm = Norm(1000)
    for isa in lib.edgecpm_kernels_available().decode().split(","):
        set_kernel_isa(isa, lib)
        for (x,), y in zip(xs, run(norm, xs)):
            assert close(y, fused_ops.rms_norm_reference(x, norm.weight, 1e-5)), isa
        for (gate, up), y in zip(gates, run(Gate(), gates)):
            assert close(y, fused_ops.silu_mul_reference(gate, up)), isa


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
