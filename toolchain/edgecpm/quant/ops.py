"""The quantized-linear custom ops: ``edgecpm::ternary_linear`` and ``edgecpm::int4_linear``.

Each op has (ARCHITECTURE.md principle 1) a Python reference here — unpack, dequantize, matmul;
the truth for every kernel and the eager path — a fake kernel so ``torch.export`` sees one op per
quantized linear, and an ``.out`` schema, which ExecuTorch's ``to_executorch()`` swaps in and the
C++ kernels implement. Arguments are the packed tensors exactly as a quantized checkpoint stores
them, so a kernel reads checkpoint bytes with no re-layout:

- ``ternary_linear(x, packed, scales?, layout, group_size)``: ``packed`` uint8 TQ2_0 (``layout``
  0) or TQ1_0 (``layout`` 1) rows, ``[N, K/256 * block_bytes]``; ``scales`` the side scales
  ``[N, K/group_size]``, or None when each block's fp16 ``d`` is the scale (then group_size is
  256, the block).
- ``int4_linear(x, qweight, scales, zeros?, group_size)``: INT4_G, ``qweight`` uint8 ``[N, K/2]``
  (low nibble = even k), ``scales`` fp16 ``[N, K/group_size]``, ``zeros`` uint8 or None (= 8).

The output has x's dtype and shape ``[..., N]``. The linear ops quantize x dynamically to int8 per
32 values first (``act_quant.py``: W1.58A8 / W4A8, as llama.cpp and 8da4w do), so the C++ kernels
can use integer dot products and still equal this reference up to fp32 summation order.

For the embedding table and LM head (optional): ``int8_linear(x, qweight, scales)`` (int8
``[N, K]``, fp16 scales per 32 along K; the Q8_0 values), W8A8 with the same activation step, as
llama.cpp's q8_0 x q8_0 head, and ``int8_embedding`` / ``int4_embedding(ids, …)``, which gather
and dequantize rows of the same tensors exactly.
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from edgecpm.quant.act_quant import fake_quantize_activations
from edgecpm.quant.formats import TQ1_0_BLOCK_BYTES, TQ2_0_BLOCK_BYTES, TQ_BLOCK, PackFormat
from edgecpm.quant.int4 import Int4Weight, dequantize_int4
from edgecpm.quant.int8 import Int8Weight, dequantize_int8
from edgecpm.quant.tq import TQPacked, dequantize_tq

TERNARY_LAYOUTS = (PackFormat.TQ2_0, PackFormat.TQ1_0)  # index = the op's ``layout`` argument
TQ_BLOCK_BYTES = {PackFormat.TQ2_0: TQ2_0_BLOCK_BYTES, PackFormat.TQ1_0: TQ1_0_BLOCK_BYTES}


def ternary_weight(packed: torch.Tensor, scales: Optional[torch.Tensor], layout: int, group_size: int,
                   dtype: torch.dtype) -> torch.Tensor:
    """The float weight ``[N, K]`` that the op's arguments stand for."""
    fmt = TERNARY_LAYOUTS[layout]
    n = packed.shape[0]
    k = packed.shape[1] // TQ_BLOCK_BYTES[fmt] * 256
    # Without side scales each 256-block's own fp16 d is the scale (group = the block).
    p = TQPacked(fmt, packed, scales, group_size if scales is not None else TQ_BLOCK, (n, k), dtype)
    return dequantize_tq(p, dtype)


@torch.library.custom_op("edgecpm::ternary_linear", mutates_args=())
def ternary_linear(x: torch.Tensor, packed: torch.Tensor, scales: Optional[torch.Tensor],
                   layout: int, group_size: int) -> torch.Tensor:
    return F.linear(fake_quantize_activations(x), ternary_weight(packed, scales, layout, group_size, x.dtype))


@ternary_linear.register_fake
def _(x, packed, scales, layout, group_size):
    return x.new_empty(*x.shape[:-1], packed.shape[0])


@torch.library.custom_op("edgecpm::int4_linear", mutates_args=())
def int4_linear(x: torch.Tensor, qweight: torch.Tensor, scales: torch.Tensor,
                zeros: Optional[torch.Tensor], group_size: int) -> torch.Tensor:
    w = dequantize_int4(Int4Weight(qweight, scales, zeros, group_size), x.dtype)
    return F.linear(fake_quantize_activations(x), w)


@int4_linear.register_fake
def _(x, qweight, scales, zeros, group_size):
    return x.new_empty(*x.shape[:-1], qweight.shape[0])


@torch.library.custom_op("edgecpm::int8_linear", mutates_args=())
def int8_linear(x: torch.Tensor, qweight: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    return F.linear(fake_quantize_activations(x), dequantize_int8(Int8Weight(qweight, scales), x.dtype))


@int8_linear.register_fake
def _(x, qweight, scales):
    return x.new_empty(*x.shape[:-1], qweight.shape[0])


# Embedding lookups on quantized tables (the rows of the same tensors a tied LM head reads).
# The output is fp32; the module casts it to the model's dtype.
@torch.library.custom_op("edgecpm::int8_embedding", mutates_args=())
def int8_embedding(ids: torch.Tensor, qweight: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    flat = ids.reshape(-1)
    rows = dequantize_int8(Int8Weight(qweight[flat], scales[flat]))
    return rows.reshape(*ids.shape, qweight.shape[1])


@int8_embedding.register_fake
def _(ids, qweight, scales):
    return qweight.new_empty(*ids.shape, qweight.shape[1], dtype=torch.float32)


@torch.library.custom_op("edgecpm::int4_embedding", mutates_args=())
def int4_embedding(ids: torch.Tensor, qweight: torch.Tensor, scales: torch.Tensor,
                   zeros: Optional[torch.Tensor], group_size: int) -> torch.Tensor:
    flat = ids.reshape(-1)
    z = None if zeros is None else zeros[flat]
    rows = dequantize_int4(Int4Weight(qweight[flat], scales[flat], z, group_size))
    return rows.reshape(*ids.shape, qweight.shape[1] * 2)


@int4_embedding.register_fake
def _(ids, qweight, scales, zeros, group_size):
    return qweight.new_empty(*ids.shape, qweight.shape[1] * 2, dtype=torch.float32)


# Out variants: schema only. ExecuTorch's to_executorch() replaces each .default call with its
# .out overload (memory planning owns the output buffer); the C++ kernels implement these.
# Integer arguments are SymInt because custom_op declares Python ints so; a plain `int` here is
# a schema mismatch and to_executorch() reports "Missing out variants".
torch.library.define(
    "edgecpm::ternary_linear.out",
    "(Tensor x, Tensor packed, Tensor? scales, SymInt layout, SymInt group_size, *, Tensor(a!) out) -> Tensor(a!)")
torch.library.define(
    "edgecpm::int4_linear.out",
    "(Tensor x, Tensor qweight, Tensor scales, Tensor? zeros, SymInt group_size, *, Tensor(a!) out) -> Tensor(a!)")
torch.library.define(
    "edgecpm::int8_linear.out", "(Tensor x, Tensor qweight, Tensor scales, *, Tensor(a!) out) -> Tensor(a!)")
torch.library.define(
    "edgecpm::int8_embedding.out", "(Tensor ids, Tensor qweight, Tensor scales, *, Tensor(a!) out) -> Tensor(a!)")
torch.library.define(
    "edgecpm::int4_embedding.out",
    "(Tensor ids, Tensor qweight, Tensor scales, Tensor? zeros, SymInt group_size, *, Tensor(a!) out) -> Tensor(a!)")
