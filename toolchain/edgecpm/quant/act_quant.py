"""Dynamic int8 activation quantization per 32 values: the "A8" of the W4A8 / W1.58A8 linears.

The ternary and int4 ops are defined *with* this step, as llama.cpp (Q8 activations against Q4_0 /
TQ2_0 weights) and ExecuTorch's 8da4w are: it is what lets the C++ kernels do the inner products
in integers (AVX2 maddubs, NEON SDOT). Defining the Python reference the same way keeps eager and
device outputs equal up to fp32 summation order, instead of ~1 % apart; eager PPL then measures
what the device computes.

Per 32 consecutive values along K: ``scale = absmax / 127`` (fp32), ``q = round(x * (1 / scale))``
(round half to even, clamped to [-127, 127]), ``x̂ = q * scale``. The exact fp32 operations of
``runtime_kernels/src/act_quant.cpp``, in the same order, so q is identical bit for bit.
"""

from __future__ import annotations

import torch

ACT_BLOCK = 32


def quantize_activations(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(q, scale)``: fp32 ``[..., K/32, 32]`` integer values and ``[..., K/32, 1]`` steps, x = q * scale
    up to rounding. The last dimension must be a multiple of 32."""
    k = x.shape[-1]
    blocks = x.float().reshape(*x.shape[:-1], k // ACT_BLOCK, ACT_BLOCK)
    scale = blocks.abs().amax(-1, keepdim=True) / 127
    inv = torch.where(scale > 0, 1 / scale, torch.zeros_like(scale))
    return torch.round(blocks * inv).clamp(-127, 127), scale


def fake_quantize_activations(x: torch.Tensor) -> torch.Tensor:
    """``x̂`` in x's dtype (computed in fp32). The last dimension must be a multiple of 32."""
    q, scale = quantize_activations(x)
    return (q * scale).reshape(x.shape).to(x.dtype)
