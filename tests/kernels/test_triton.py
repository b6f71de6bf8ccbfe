"""The Triton GPU reference kernels, run by Triton's interpreter on CPU tensors, against the Python ops.

Same semantics (int8-per-32 activations, then fp32 products with the dequantised weights), so the
difference is fp32 summation order: |y - y_ref| <= 1e-5 * sum_k |w x| per output. GEMV (M = 1) and
GEMM (M > 1), N not a multiple of the 32-wide tile, every group layout.
"""

from __future__ import annotations

import pytest
import torch

from edgecpm.quant.act_quant import fake_quantize_activations
from edgecpm.quant.config import Int4Config, TernaryConfig
from edgecpm.quant.int4 import dequantize_int4
from edgecpm.quant.linear import Int4Linear, TernaryLinear
from edgecpm.quant.ops import ternary_weight


@pytest.fixture(scope="module")
def triton_linear(triton_kernels):
    return triton_kernels.module("edgecpm.kernels.triton_linear")


def check(got: torch.Tensor, ref: torch.Tensor, x: torch.Tensor, w: torch.Tensor):
    bound = 1e-5 * (fake_quantize_activations(x).abs() @ w.abs().T) + 1e-6
    assert got.shape == ref.shape and bool(((got - ref).abs() <= bound).all())


@pytest.mark.parametrize("m", [1, 5])
@pytest.mark.parametrize("group_size,symmetric", [(32, True), (64, False), (128, True)])
def test_int4_kernel_equals_the_op(m, group_size, symmetric, triton_kernels, triton_linear):
    lin = Int4Linear.from_float(torch.randn(40, 256) * 0.05, Int4Config(group_size=group_size, symmetric=symmetric))
    x = torch.randn(1, m, 256)
    got = triton_kernels.run(triton_linear.int4_linear, x, lin.qweight, lin.scales, lin.zeros, lin.group_size)
    check(got, lin(x), x, dequantize_int4(lin.int4_weight()))


@pytest.mark.parametrize("m", [1, 5])
@pytest.mark.parametrize("group_size", [256, 64, 0])  # block d; side scales; per-channel
def test_ternary_tq2_kernel_equals_the_op(m, group_size, triton_kernels, triton_linear):
    lin = TernaryLinear.from_float(torch.randn(40, 512) * 0.05, TernaryConfig(group_size=group_size))
    x = torch.randn(1, m, 512)
    got = triton_kernels.run(triton_linear.ternary_linear, x, lin.packed, lin.scales, lin.layout, lin.group_size)
    check(got, lin(x), x, ternary_weight(lin.packed, lin.scales, lin.layout, lin.group_size, torch.float32))


def test_tq1_is_refused_with_a_way_out(triton_kernels, triton_linear):
    lin = TernaryLinear.from_float(torch.randn(8, 256), TernaryConfig(layout="tq1_0"))
    with pytest.raises(NotImplementedError, match="--layout tq2_0"):
        triton_kernels.run(triton_linear.ternary_linear, torch.randn(1, 256), lin.packed, lin.scales, lin.layout,
                           lin.group_size)
