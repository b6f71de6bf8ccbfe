"""The torch / executorch pins, checked where they matter.

The executorch 1.5.1 wheel is built against torch 2.13.0 but does not declare it, so a wrong
torch only shows up later as an obscure operator or ABI error. Everything that touches
ExecuTorch calls ``require_executorch()`` first. The eager model and the GPU reference path only
need a recent torch (the GPU machine has its own), so they do not check the pin.
"""

from __future__ import annotations

from edgecpm.errors import EnvironmentMismatch

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
    return executorch
