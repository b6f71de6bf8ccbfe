"""``edgecpm::int8_embedding`` and ``edgecpm::int4_embedding``: rows of a quantized table (Q8_0
values; INT4 symmetric per 32, Q4_0's), dequantized on lookup. A lookup sums nothing, so every
implementation equals the float64 definition exactly."""

from __future__ import annotations

import functools

import pytest
import torch

from edgecpm.quant.int4 import Int4Weight, dequantize_int4
from edgecpm.quant.int8 import Int8Weight, dequantize_int8
from edgecpm.quant.linear import quantize_table
from tests.ops.implementations import OpCalls
from tests.ops.inputs import N, token_ids, weight
from tests.ops.tolerance import assert_within_rounding

WIDTH = 96  # three int4 groups


@functools.cache
def case(kind: str):
    t = quantize_table(weight(N, WIDTH), kind)
    if kind == "int8":
        table = dequantize_int8(Int8Weight(t["qweight"], t["scales"]), torch.float64)
        extra = ()
    else:
        table = dequantize_int4(Int4Weight(t["qweight"], t["scales"], None, 32), torch.float64)
        extra = (None, 32)
    calls = OpCalls(f"{kind}_embedding", [(ids, t["qweight"], t["scales"], *extra) for ids in token_ids(N)])
    return calls, table


@pytest.mark.parametrize("kind", ["int8", "int4"])
def test_equals_definition(run, kind, impl):
    calls, table = case(kind)
    for rows, args in zip(run(calls), calls.calls):
        definition = table[args[0]]
        assert rows.dtype == torch.float32
        assert_within_rounding(rows, definition, torch.zeros_like(definition), f"{impl.name} {kind}")
