"""The decoder block's small float ops as two custom ops, so an exported layer is a handful of
kernel calls instead of a dozen elementwise ops cut into XNNPACK partitions:

- ``edgecpm::rms_norm(x, weight, eps)``: MiniCPM4's RMSNorm (variance in fp32, normalise, cast
  back, scale: the official ``rms_layernorm`` order);
- ``edgecpm::silu_mul(gate, up)``: ``silu(gate) * up``, the MLP's gating.

As for the other ops (quant/ops.py): the Python reference is the eager path and the definition, a
fake kernel lets ``torch.export`` see one opaque op, the ``.out`` schema is what ExecuTorch's
``to_executorch()`` swaps in and ``runtime_kernels/src/norm_act.cpp`` implements. Both are
differentiable (training and QAT run through the same modules): the backward differentiates the
reference.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def rms_norm_reference(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    xf = x.float()
    variance = xf.pow(2).mean(-1, keepdim=True)
    return (xf * torch.rsqrt(variance + eps)).to(x.dtype) * weight


def silu_mul_reference(gate: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    return F.silu(gate) * up


@torch.library.custom_op("edgecpm::rms_norm", mutates_args=())
def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    return rms_norm_reference(x, weight, eps)


@rms_norm.register_fake
def _(x, weight, eps):
    return torch.empty_like(x, dtype=torch.promote_types(x.dtype, weight.dtype))


@torch.library.custom_op("edgecpm::silu_mul", mutates_args=())
def silu_mul(gate: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    return silu_mul_reference(gate, up)


@silu_mul.register_fake
def _(gate, up):
    return torch.empty_like(gate)


def _through_reference(reference, n_tensors: int):
    """Autograd for an op whose reference is differentiable: save the inputs, and in backward
    differentiate the reference on them."""
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs[:n_tensors])
        ctx.rest = inputs[n_tensors:]

    def backward(ctx, grad):
        with torch.enable_grad():
            inputs = [t.detach().requires_grad_(t.requires_grad) for t in ctx.saved_tensors]
            out = reference(*inputs, *ctx.rest)
            wanted = [t for t in inputs if t.requires_grad]
            grads = iter(torch.autograd.grad(out, wanted, grad) if wanted else ())
        return (*(next(grads) if t.requires_grad else None for t in inputs), *(None for _ in ctx.rest))

    return backward, setup_context


for _op, _ref, _n in ((rms_norm, rms_norm_reference, 2), (silu_mul, silu_mul_reference, 2)):
    _backward, _setup = _through_reference(_ref, _n)
    _op.register_autograd(_backward, setup_context=_setup)

# Schema only: the C++ kernels implement these (``eps`` is a float: custom_op declares Python floats so).
torch.library.define("edgecpm::rms_norm.out", "(Tensor x, Tensor weight, float eps, *, Tensor(a!) out) -> Tensor(a!)")
torch.library.define("edgecpm::silu_mul.out", "(Tensor gate, Tensor up, *, Tensor(a!) out) -> Tensor(a!)")
