"""The torch / executorch pins, checked where they matter.

The executorch 1.5.1 wheel is built against torch 2.13.0 but does not declare it, so a wrong
torch only shows up later as an obscure operator or ABI error. Everything that touches
ExecuTorch calls ``require_executorch()`` first. The eager model and the GPU reference path only
need a recent torch (the GPU machine has its own), so they do not check the pin.
"""

from __future__ import annotations

import contextlib

from edgecpm.errors import CheckpointError, EnvironmentMismatch

TORCH_PIN = "2.13.0"
EXECUTORCH_PIN = "1.5.1"


def _base(version: str) -> str:
    return version.split("+")[0]


def require_executorch():
    """Import executorch after checking both pins; returns the module."""
    import torch

    if _base(torch.__version__) != TORCH_PIN:
        raise EnvironmentMismatch(
            f"torch {torch.__version__} is installed, but executorch {EXECUTORCH_PIN} is built for "
            f"torch {TORCH_PIN}: run `pip install torch=={TORCH_PIN}` (or `make setup`)")
    try:
        import executorch
        from importlib.metadata import version
    except ImportError:
        raise EnvironmentMismatch(
            f"executorch is not installed: run `pip install executorch=={EXECUTORCH_PIN}` "
            "(or `make setup`)") from None
    got = version("executorch")
    if _base(got) != EXECUTORCH_PIN:
        raise EnvironmentMismatch(
            f"executorch {got} is installed, edgecpm needs {EXECUTORCH_PIN}: "
            f"run `pip install executorch=={EXECUTORCH_PIN}`")
    from edgecpm.quiet import start_executorch_threadpool

    start_executorch_threadpool()
    return executorch


def execute_single_threaded(method, inputs: list):
    """``method.execute(inputs)`` with torch's intra-op pool held at one thread.

    The program computes on ExecuTorch's own threadpool; torch only copies the outputs out, and
    a copy over 32768 elements (one row of logits at the real 73448-token vocabulary) is split
    across torch's threads. Waking the second thread cost 3-8 ms per call on a busy 2-core VM
    (measured: a [5, 8192] output took 8.0 ms per call with 2 torch threads, 0.36 ms with 1).
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return method.execute(inputs)
    finally:
        torch.set_num_threads(threads)


@contextlib.contextmanager
def program_errors(program):
    """ExecuTorch reports a damaged program only as ``RuntimeError('Failed to load program, error:
    0x23')`` (or a failed load_method / execute): one line naming the file and the remedy instead."""
    try:
        yield
    except RuntimeError as e:
        raise CheckpointError(f"{program}: ExecuTorch cannot load or run it ({e}); the file is damaged "
                              "or was not written by this edgecpm: re-run `edgecpm export`") from None
