"""The GPU reference runner (ARCHITECTURE.md principle 4): the eager model on CUDA with the
quantized linears and InfLLM-v2 attention dispatched to the Triton kernels, behind the CPU-tensor
``CausalLM`` interface so ``generate`` and ``bench`` run it like any other backend."""

from __future__ import annotations

from pathlib import Path

import torch

from edgecpm.checkpoint.loader import load_model
from edgecpm.errors import EdgecpmError


def register_cuda_kernels() -> None:
    """Make every edgecpm:: op with a Triton kernel run it on CUDA tensors: the quantized linears
    (``quant/triton_linear.py``) and InfLLM-v2 attention (``attention/triton_infllm.py``); the
    others (the int8 head and embeddings, rms_norm, silu_mul) run their torch reference there.
    Imports Triton."""
    from edgecpm.attention import triton_infllm
    from edgecpm.quant import triton_linear

    triton_linear.register_cuda_kernels()
    triton_infllm.register_cuda_kernels()


class OnDevice:
    """A model on ``device`` behind the CPU-tensor call interface ``generate`` uses."""

    def __init__(self, model, device: str):
        self.model = model.to(device)
        self.device = device
        self.max_seq_len = model.max_seq_len
        self.config = model.config

    def reset_caches(self):
        self.model.reset_caches()

    def __call__(self, tokens: torch.Tensor, input_pos: torch.Tensor) -> torch.Tensor:
        return self.model(tokens.to(self.device), input_pos.to(self.device)).cpu()


def cuda_model(model_dir: Path, max_seq_len: int, dtype: torch.dtype | None):
    """The checkpoint on the GPU, its edgecpm:: ops on the Triton kernels."""
    if not torch.cuda.is_available():
        raise EdgecpmError("--device cuda: torch sees no CUDA device (torch.cuda.is_available() is False); "
                           "run on a machine with an NVIDIA GPU and a CUDA build of torch")
    try:
        register_cuda_kernels()
    except ImportError as e:
        raise EdgecpmError(f"--device cuda needs Triton ({e}); pip install 'edgecpm[gpu]'") from None
    return OnDevice(load_model(model_dir, dtype=dtype, max_seq_len=max_seq_len), "cuda")
