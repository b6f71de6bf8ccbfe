"""Group-wise int8 (groups of 32 along K), byte-compatible with llama.cpp's Q8_0.

For the tensors BitCPM and int4 leave in high precision: the embedding table and the LM head
(ExecuTorch's mobile recipe quantizes both to 8 bits). Kept as two tensors for kernels —
``qweight`` int8 ``[N, K]`` and ``scales`` fp16 ``[N, K/32]``, weight = ``q * scale`` — and
repacked to Q8_0 blocks (fp16 d, then 32 int8) for GGUF without any change of value.

The arithmetic is llama.cpp's reference ``quantize_row_q8_0``: d = absmax / 127 in fp32, q =
round-half-away-from-zero(x / d), and only then d is rounded to fp16 for storage.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from edgecpm.errors import QuantError
from edgecpm.quant.blocks import check_2d, d_to_bytes, expand_groups

INT8_GROUP = 32


@dataclass
class Int8Weight:
    qweight: torch.Tensor  # int8 [N, K]
    scales: torch.Tensor   # fp16 [N, K/32]


def _round_half_away(x: torch.Tensor) -> torch.Tensor:
    a = x.abs()
    fl = torch.floor(a)
    return torch.sign(x) * (fl + torch.floor(2 * (a - fl)))


def quantize_int8(w: torch.Tensor) -> Int8Weight:
    n, k = check_2d(w)
    if k % INT8_GROUP:
        raise QuantError(f"int8 weight {(n, k)}: K={k} is not a multiple of {INT8_GROUP}; "
                         "keep this tensor in high precision")
    x = w.detach().to(torch.float32).reshape(n, k // INT8_GROUP, INT8_GROUP)
    d = x.abs().amax(-1, keepdim=True) / 127
    inv = torch.where(d == 0, 0, 1 / torch.where(d == 0, 1, d))
    q = _round_half_away(x * inv).to(torch.int8).reshape(n, k)
    return Int8Weight(q, d.squeeze(-1).to(torch.float16))


def dequantize_int8(q: Int8Weight, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return (q.qweight.float() * expand_groups(q.scales.float(), INT8_GROUP)).to(dtype)


def pack_q8_0(q: Int8Weight) -> torch.Tensor:
    """llama.cpp Q8_0 bytes ``[N, K/32 * 34]``: per block fp16 d, then 32 int8."""
    n, k = q.qweight.shape
    nb = k // INT8_GROUP
    qs = q.qweight.view(torch.uint8).reshape(n, nb, INT8_GROUP)
    return torch.cat([d_to_bytes(q.scales), qs], dim=-1).reshape(n, nb * (INT8_GROUP + 2))
