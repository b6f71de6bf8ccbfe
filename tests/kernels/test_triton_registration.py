"""`bench --device cuda` runs the edgecpm:: ops on Triton kernels: each op gets a CUDA kernel."""

from __future__ import annotations

import torch


def test_cuda_kernels_register_for_every_triton_op(triton_kernels):
    kernels = triton_kernels.module("edgecpm.kernels")
    kernels.register_cuda_kernels()  # registration needs no GPU; a missing op or kernel would raise
    for op in ("int4_linear", "ternary_linear", "infllm_attention"):
        assert torch._C._dispatch_has_kernel_for_dispatch_key(f"edgecpm::{op}", "CUDA")
