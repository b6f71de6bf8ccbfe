"""``edgecpm::int4_linear``: INT4_G bytes, symmetric (zeros None, = 8) or with a zero point per group,
at every group size the quantizer offers."""

from __future__ import annotations

import functools

import pytest

from edgecpm.quant.config import Int4Config
from edgecpm.quant.formats import INT4_GROUP_SIZES
from edgecpm.quant.int4 import dequantize_int4
from edgecpm.quant.linear import Int4Linear
from tests.ops.inputs import K, N, weight
from tests.ops.linear_checks import check_equals_scalar, check_linear, linear_calls

LAYOUTS = [(group, symmetric) for group in INT4_GROUP_SIZES for symmetric in (True, False)]


@functools.cache
def case(group_size: int, symmetric: bool):
    lin = Int4Linear.from_float(weight(N, K), Int4Config(group_size=group_size, symmetric=symmetric))
    calls = linear_calls("int4_linear", lin.qweight, lin.scales, lin.zeros, lin.group_size, k=K)
    return calls, dequantize_int4(lin.int4_weight())


@pytest.mark.parametrize("group_size,symmetric", LAYOUTS)
def test_equals_definition(run, group_size, symmetric, impl):
    calls, w = case(group_size, symmetric)
    check_linear(run(calls), calls, w, f"{impl.name} g{group_size} {'sym' if symmetric else 'asym'}")


@pytest.mark.parametrize("group_size,symmetric", LAYOUTS)
def test_simd_equals_scalar(simd, group_size, symmetric):
    check_equals_scalar(simd, case(group_size, symmetric)[0])
