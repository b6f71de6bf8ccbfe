"""``edgecpm::int8_linear`` (the quantized LM head): int8 weights with an fp16 scale per 32 along K,
llama.cpp's Q8_0 values, against int8 activations."""

from __future__ import annotations

import functools

from edgecpm.quant.int8 import Int8Weight, dequantize_int8
from edgecpm.quant.linear import quantize_table
from tests.ops.inputs import K, N, weight
from tests.ops.linear_checks import check_equals_scalar, check_linear, linear_calls


@functools.cache
def case():
    t = quantize_table(weight(N, K), "int8")
    calls = linear_calls("int8_linear", t["qweight"], t["scales"], k=K)
    return calls, dequantize_int8(Int8Weight(t["qweight"], t["scales"]))


def test_equals_definition(run, impl):
    calls, w = case()
    check_linear(run(calls), calls, w, impl.name)


def test_simd_equals_scalar(simd):
    check_equals_scalar(simd, case()[0])


def test_every_kernel_table_is_tested(lib):
    """Each ISA the library offers here has its own test cases (implementations.CPP_ISAS)."""
    import platform

    from tests.ops.implementations import CPP_ISAS

    offered = lib.edgecpm_kernels_available().decode().split(",")
    assert set(offered) <= set(CPP_ISAS[platform.machine()]), offered
