from __future__ import annotations

import gguf
import numpy as np
import pytest
import torch

from edgecpm.errors import QuantError
from edgecpm.quant.int8 import dequantize_int8, pack_q8_0, quantize_int8
from edgecpm.quant.metrics import sqnr_db


def test_q8_0_bytes_equal_ggufs_reference_quantizer():
    w = torch.randn(6, 96, generator=torch.Generator().manual_seed(0)) * 0.05
    w[0, :32] = 0  # an all-zero block: d = 0, codes 0
    w[1, 5] = 0.5  # a spike that owns its block's scale
    ours = pack_q8_0(quantize_int8(w)).numpy()
    theirs = gguf.quants.quantize(w.numpy(), gguf.GGMLQuantizationType.Q8_0)
    assert np.array_equal(ours, theirs)


def test_int8_error_bound():
    # Step = absmax/127 over a 32-block of Gaussians (absmax ≈ 2.0σ) → SQNR ≈ 10·log10(12·127²/2.0²) ≈ 46.8 dB.
    w = torch.randn(64, 512, generator=torch.Generator().manual_seed(1))
    assert sqnr_db(w, dequantize_int8(quantize_int8(w))) > 44


def test_int8_shape_error():
    with pytest.raises(QuantError, match="K=40 is not a multiple of 32"):
        quantize_int8(torch.randn(4, 40))
