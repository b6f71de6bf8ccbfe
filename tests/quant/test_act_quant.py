"""The int8-per-32 activation step the ternary / int4 ops include: its error bound, and the ops use it."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from edgecpm.quant.act_quant import fake_quantize_activations
from edgecpm.quant.config import Int4Config
from edgecpm.quant.linear import Int4Linear


def test_error_is_at_most_half_a_step_and_zeros_stay_zero():
    x = torch.randn(3, 5, 128) * torch.logspace(-3, 2, 128)  # blocks of very different ranges
    x[0, 0, :32] = 0
    xq = fake_quantize_activations(x)
    step = x.reshape(3, 5, 4, 32).abs().amax(-1, keepdim=True) / 127
    err = (xq - x).reshape(3, 5, 4, 32).abs()
    assert bool((err <= step / 2 * (1 + 1e-6) + 1e-30).all())
    assert torch.equal(xq[0, 0, :32], torch.zeros(32))
    # 255 levels per block: at most 255 distinct values, and the block max is kept exactly.
    assert xq[1, 2, :32].unique().numel() <= 255
    assert torch.allclose(xq.reshape(3, 5, 4, 32).abs().amax(-1), x.reshape(3, 5, 4, 32).abs().amax(-1), rtol=1e-6)


def test_int4_op_is_w4a8_not_weight_only():
    w = torch.randn(8, 64)
    lin = Int4Linear.from_float(w, Int4Config(group_size=32))
    x = torch.randn(2, 64)
    wq = lin(torch.eye(64)).T  # x = identity rows quantize exactly: the dequantized weight
    assert torch.allclose(lin(x), F.linear(fake_quantize_activations(x), wq), atol=1e-5)
    assert not torch.allclose(lin(x), F.linear(x, wq), atol=1e-5)
