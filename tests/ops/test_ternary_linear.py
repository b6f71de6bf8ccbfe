"""``edgecpm::ternary_linear``: TQ2_0 and TQ1_0 bytes, with each block's fp16 d as the scale (group
256, ``edgecpm quantize --scheme ternary``'s default), side scales per 128 or 64, or per channel."""

from __future__ import annotations

import functools

import pytest
import torch

from edgecpm.quant.config import TernaryConfig
from edgecpm.quant.linear import TernaryLinear
from edgecpm.quant.ops import ternary_weight
from tests.ops.implementations import Triton
from tests.ops.inputs import K, N, ROWS, weight
from tests.ops.linear_checks import check_equals_scalar, check_linear, linear_calls

LAYOUTS = [(layout, group) for layout in ("tq2_0", "tq1_0") for group in (256, 128, 64, 0)]


@functools.cache
def case(layout: str, group_size: int, n: int = N):
    lin = TernaryLinear.from_float(weight(n, K), TernaryConfig(group_size=group_size, layout=layout))
    calls = linear_calls("ternary_linear", lin.packed, lin.scales, lin.layout, lin.group_size, k=K)
    return calls, ternary_weight(lin.packed, lin.scales, lin.layout, lin.group_size, torch.float32)


@pytest.mark.parametrize("layout,group_size", LAYOUTS)
def test_equals_definition(run, layout, group_size, impl):
    calls, w = case(layout, group_size)
    check_linear(run(calls), calls, w, f"{impl.name} {layout} g{group_size}")


def test_many_row_tiles(run, impl):
    """200 rows: 13 row tiles, shared out as several tasks per thread, with side scales."""
    calls, w = case("tq2_0", 128, ROWS)
    check_linear(run(calls), calls, w, impl.name)


@pytest.mark.parametrize("layout,group_size", LAYOUTS)
def test_simd_equals_scalar(simd, layout, group_size):
    check_equals_scalar(simd, case(layout, group_size)[0])


def test_triton_refuses_tq1():
    """TQ1_0 has no Triton kernel: the GPU path says how to get one it has."""
    pytest.importorskip("triton")
    calls, _ = case("tq1_0", 256)
    with pytest.raises(NotImplementedError, match="--layout tq2_0"):
        Triton().kernel("ternary_linear")(*calls.calls[0])
