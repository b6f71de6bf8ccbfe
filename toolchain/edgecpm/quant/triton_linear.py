"""Triton kernels for ``edgecpm::int4_linear`` and ``edgecpm::ternary_linear`` (TQ2_0) on packed weights.

The GPU reference path (ARCHITECTURE.md principle 4): the same packed checkpoint bytes the C++
kernels read, unpacked in registers tile by tile, so a quantized model runs on CUDA without ever
materialising its float weights. One kernel serves GEMV (decode, M = 1) and GEMM (prefill): tiles
of BLOCK_M x BLOCK_N outputs, K walked 32 weights at a time (32 divides every group size and is
one TQ2_0 sub-block: 32 consecutive weights share one byte row and one shift).

Semantics are the ops' (quant/ops.py): activations are int8-per-32 fake-quantised first (in torch,
``act_quant.py``), then multiplied with the dequantised weights in fp32. ``register_cuda_kernels()``
makes the ops dispatch here for CUDA tensors. The tests run these kernels on CPU tensors under
``TRITON_INTERPRET=1`` (Triton's interpreter), against the Python reference.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from edgecpm.quant.act_quant import fake_quantize_activations
from edgecpm.quant.formats import TQ2_0_BLOCK_BYTES

SUB = 32  # weights per K step


@triton.jit
def _int4_kernel(x_ptr, q_ptr, s_ptr, z_ptr, o_ptr, M, N, K, GROUP, HAS_ZEROS: tl.constexpr,
                 BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    rm = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)
    rb = tl.arange(0, SUB // 2)
    rk = tl.arange(0, SUB)
    groups = K // GROUP
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k0 in range(0, K, SUB):
        x = tl.load(x_ptr + rm[:, None] * K + k0 + rk[None, :], mask=rm[:, None] < M, other=0.0)
        b = tl.load(q_ptr + rn[:, None] * (K // 2) + k0 // 2 + rb[None, :], mask=rn[:, None] < N, other=0)
        # byte i: k = 2i in the low nibble, 2i + 1 in the high one -> interleave back to k order
        nib = tl.reshape(tl.join(b & 15, b >> 4), (BLOCK_N, SUB)).to(tl.float32)
        g = rn * groups + k0 // GROUP
        scale = tl.load(s_ptr + g, mask=rn < N, other=0.0).to(tl.float32)
        if HAS_ZEROS:
            zero = tl.load(z_ptr + g, mask=rn < N, other=0).to(tl.float32)
        else:
            zero = tl.full((BLOCK_N,), 8.0, tl.float32)
        w = (nib - zero[:, None]) * scale[:, None]
        acc += tl.sum(x[:, None, :] * w[None, :, :], axis=2)
    tl.store(o_ptr + rm[:, None] * N + rn[None, :], acc, mask=(rm[:, None] < M) & (rn[None, :] < N))


@triton.jit
def _tq2_kernel(x_ptr, p_ptr, s_ptr, o_ptr, M, N, K, GROUP, HAS_SIDE: tl.constexpr, BLOCK_BYTES: tl.constexpr,
                BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    rm = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)
    rk = tl.arange(0, SUB)
    row_bytes = K // 256 * BLOCK_BYTES
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k0 in range(0, K, SUB):
        blk = k0 // 256
        c = (k0 % 256) // SUB          # sub-block c = 4j + l: bytes 32j..32j+31, bits 2l
        base = p_ptr + rn * row_bytes + blk * BLOCK_BYTES
        x = tl.load(x_ptr + rm[:, None] * K + k0 + rk[None, :], mask=rm[:, None] < M, other=0.0)
        b = tl.load(base[:, None] + 32 * (c // 4) + rk[None, :], mask=rn[:, None] < N, other=1)
        trit = ((b >> (2 * (c % 4))) & 3).to(tl.float32) - 1.0
        lo = tl.load(base + 64, mask=rn < N, other=0).to(tl.uint16)
        hi = tl.load(base + 65, mask=rn < N, other=0).to(tl.uint16)
        scale = (lo | (hi << 8)).to(tl.float16, bitcast=True).to(tl.float32)
        if HAS_SIDE:
            scale = scale * tl.load(s_ptr + rn * (K // GROUP) + k0 // GROUP, mask=rn < N, other=0.0).to(tl.float32)
        acc += tl.sum(x[:, None, :] * (trit * scale[:, None])[None, :, :], axis=2)
    tl.store(o_ptr + rm[:, None] * N + rn[None, :], acc, mask=(rm[:, None] < M) & (rn[None, :] < N))


def _launch(kernel, x: torch.Tensor, n: int, weights: tuple, group: int, **meta) -> torch.Tensor:
    k = x.shape[-1]
    x2 = fake_quantize_activations(x).reshape(-1, k).float().contiguous()
    m = x2.shape[0]
    out = torch.empty(m, n, dtype=torch.float32, device=x.device)
    block_m = 16 if m > 1 else 1
    grid = (triton.cdiv(m, block_m), triton.cdiv(n, 32))
    kernel[grid](x2, *weights, out, m, n, k, group, **meta, BLOCK_M=block_m, BLOCK_N=32)
    return out.reshape(*x.shape[:-1], n).to(x.dtype)


def int4_linear(x, qweight, scales, zeros, group_size: int) -> torch.Tensor:
    z = zeros if zeros is not None else scales  # unread when HAS_ZEROS is False
    return _launch(_int4_kernel, x, qweight.shape[0], (qweight, scales, z), group_size,
                   HAS_ZEROS=zeros is not None)


def ternary_linear(x, packed, scales, layout: int, group_size: int) -> torch.Tensor:
    if layout != 0:
        raise NotImplementedError("the Triton ternary kernel reads TQ2_0 (layout 0); TQ1_0 has no GPU kernel "
                                  "yet: re-quantize with --layout tq2_0")
    s = scales if scales is not None else packed  # unread when HAS_SIDE is False
    return _launch(_tq2_kernel, x, packed.shape[0], (packed, s), group_size,
                   HAS_SIDE=scales is not None, BLOCK_BYTES=TQ2_0_BLOCK_BYTES)


def register_cuda_kernels() -> None:
    """Make ``torch.ops.edgecpm.int4_linear`` / ``ternary_linear`` run these kernels on CUDA tensors."""
    import edgecpm.quant.ops  # noqa: F401  defines the ops

    torch.library.register_kernel("edgecpm::int4_linear", "cuda", int4_linear)
    torch.library.register_kernel("edgecpm::ternary_linear", "cuda", ternary_linear)
