"""`bench --device cuda` runs the edgecpm:: ops on Triton kernels: each op with a Triton kernel gets a
CUDA kernel registered (registration needs no GPU; a missing op or kernel would raise)."""

from __future__ import annotations

import pytest
import torch


def test_cuda_kernels_register_for_every_triton_op():
    pytest.importorskip("triton")
    from edgecpm.runtime.cuda import register_cuda_kernels
    from tests.ops.implementations import TRITON_KERNELS

    register_cuda_kernels()
    for op in TRITON_KERNELS:
        assert torch._C._dispatch_has_kernel_for_dispatch_key(f"edgecpm::{op}", "CUDA")
