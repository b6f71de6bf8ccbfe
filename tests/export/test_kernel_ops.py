"""Each edgecpm:: op as a one-op ExecuTorch program run by the C++ kernels, against the Python reference.

The ternary, int4 and int8 (LM head) linears quantize activations to int8 per 32 values by
definition (reference: quant/act_quant.py, kernel: act_quant.cpp, identical q), so kernel and
reference differ only in fp32 summation order: |y - y_ref| <= 1e-5 * sum_k |w_nk x_k|, per output.
Every ISA available here must give outputs bit-identical to scalar. The embedding ops are equal to
the bit.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from edgecpm.quant.config import Int4Config, TernaryConfig
from edgecpm.quant.linear import Int4Linear, Int8Linear, QuantizedEmbedding, TernaryLinear, quantize_table
from edgecpm.runtime.kernel_library import set_kernel_isa


def run_program(module: nn.Module, example: torch.Tensor, inputs: list[torch.Tensor]) -> list[torch.Tensor]:
    from executorch.exir import to_edge_transform_and_lower
    from executorch.runtime import Runtime

    t = torch.export.Dim("t", min=1, max=16)
    ep = torch.export.export(module, (example,), dynamic_shapes=({1: t},), strict=False)
    buffer = to_edge_transform_and_lower(ep).to_executorch().buffer
    program = Runtime.get().load_program(buffer)  # the method borrows the program's memory
    method = program.load_method("forward")
    return [method.execute([x])[0] for x in inputs]


def rounding_bound(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return 1e-5 * (x.abs().double() @ w.abs().double().T) + 1e-6


def check_linear(lib, module: nn.Module, weight: torch.Tensor):
    torch.manual_seed(0)
    k = weight.shape[1]
    xs = [torch.randn(1, 1, k), torch.randn(1, 5, k) * 3]  # decode GEMV and prefill GEMM
    xs[1][0, 2, 7] = 50.0  # an outlier: its activation block's int8 step grows
    outs = {}
    for isa in lib.edgecpm_kernels_available().decode().split(","):
        set_kernel_isa(isa, lib)
        outs[isa] = run_program(module, xs[1], xs)
    for x, y in zip(xs, outs["scalar"]):
        ref = module(x)  # the Python reference op
        assert y.shape == ref.shape
        assert bool(((y.double() - ref.double()).abs() <= rounding_bound(x, weight)).all())
    for isa, ys in outs.items():
        for y, y_scalar in zip(ys, outs["scalar"]):
            assert torch.equal(y, y_scalar), f"{isa} differs from scalar"


def weight(n: int, k: int) -> torch.Tensor:
    return torch.randn(n, k, generator=torch.Generator().manual_seed(n * k)) * 0.05


@pytest.mark.parametrize("layout", ["tq2_0", "tq1_0"])
# d in the blocks (256: `edgecpm quantize --scheme ternary`'s default); side scales; per-channel
@pytest.mark.parametrize("group_size", [256, 128, 64, 0])
def test_ternary_linear(lib, layout, group_size):
    w = weight(37, 512)
    module = TernaryLinear.from_float(w, TernaryConfig(group_size=group_size, layout=layout))
    from edgecpm.quant.ops import ternary_weight

    check_linear(lib, module, ternary_weight(module.packed, module.scales, module.layout, module.group_size,
                                             torch.float32))


def test_ternary_linear_row_tasks(lib):
    """200 output rows: 13 row tiles, shared out as several tasks per thread (RowTasks), with side scales."""
    w = weight(200, 256)
    module = TernaryLinear.from_float(w, TernaryConfig(group_size=128, layout="tq2_0"))
    from edgecpm.quant.ops import ternary_weight

    check_linear(lib, module, ternary_weight(module.packed, module.scales, module.layout, module.group_size,
                                             torch.float32))


@pytest.mark.parametrize("group_size,symmetric", [(32, True), (128, False), (64, True)])
def test_int4_linear(lib, group_size, symmetric):
    w = weight(19, 384)
    module = Int4Linear.from_float(w, Int4Config(group_size=group_size, symmetric=symmetric))
    from edgecpm.quant.int4 import dequantize_int4

    check_linear(lib, module, dequantize_int4(module.int4_weight()))


def test_int8_linear(lib):
    t = quantize_table(weight(33, 96), "int8")
    module = Int8Linear(t["qweight"], t["scales"])
    from edgecpm.quant.int8 import Int8Weight, dequantize_int8

    check_linear(lib, module, dequantize_int8(Int8Weight(t["qweight"], t["scales"])))


@pytest.mark.parametrize("kind", ["int8", "int4"])
def test_quantized_embedding_is_exact(lib, kind):
    module = QuantizedEmbedding(kind, quantize_table(weight(50, 64), kind), torch.float32)
    ids = [torch.tensor([[3]]), torch.tensor([[0, 49, 7, 7, 12]])]
    for got, x in zip(run_program(module, ids[1], ids), ids):
        assert torch.equal(got, module(x))
