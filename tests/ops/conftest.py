"""``impl``: each op test runs once per implementation this machine has (implementations.py)."""

from __future__ import annotations

import pytest

from tests.ops.implementations import Cpp, OpCalls, available


def pytest_generate_tests(metafunc):
    if "impl" in metafunc.fixturenames:
        impls = available()
        metafunc.parametrize("impl", impls, ids=[i.name for i in impls])
    if "simd" in metafunc.fixturenames:  # the C++ tables other than scalar
        simd = [i for i in available() if isinstance(i, Cpp) and i.isa != "scalar"]
        metafunc.parametrize("simd", simd, ids=[i.name for i in simd])


@pytest.fixture
def run(impl, triton_interpreter_without_cuda):
    """``run(calls)``: the outputs of ``impl`` on ``calls``, or a skip naming why it cannot run them."""

    def run_calls(calls: OpCalls):
        why = impl.unsupported(calls)
        if why:
            pytest.skip(why)
        return impl.run(calls)

    return run_calls
