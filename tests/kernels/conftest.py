"""The Triton kernels on whatever this machine has: real kernels on CUDA tensors when a GPU is
here, else Triton's interpreter on CPU tensors (TRITON_INTERPRET, set by tests/conftest.py's
session fixture only when there is no CUDA)."""

from __future__ import annotations

import importlib
import importlib.util

import pytest
import torch


class TritonKernels:
    def __init__(self, device: str):
        self.device = device

    def module(self, name: str):
        if importlib.util.find_spec("triton") is None:
            pytest.skip("triton is not installed (it comes with the dev extras)")
        return importlib.import_module(name)

    def run(self, kernel, *args):
        """``kernel(*args)`` with its tensors on the kernels' device; the result back on the CPU."""
        out = kernel(*(a.to(self.device) if isinstance(a, torch.Tensor) else a for a in args))
        return out.cpu()


@pytest.fixture(scope="session")
def triton_kernels(triton_interpreter_without_cuda) -> TritonKernels:
    return TritonKernels("cuda" if torch.cuda.is_available() else "cpu")
