"""Quantization error as SQNR, the one number every quant test and report in edgecpm quotes.

SQNR (dB) = 10 log10(sum ref^2 / sum (ref - approx)^2). Scale-free, so thresholds carry across
layers; +6.02 dB per extra bit for a uniform quantizer is the rule of thumb to read it by.
"""

from __future__ import annotations

import math

import torch


def sqnr_db(ref: torch.Tensor, approx: torch.Tensor) -> float:
    """Signal-to-quantization-noise ratio in dB, computed in float64. ``inf`` when exact."""
    if ref.shape != approx.shape:
        raise ValueError(f"sqnr_db: shapes differ, {tuple(ref.shape)} vs {tuple(approx.shape)}")
    r = ref.detach().to(torch.float64)
    noise = (r - approx.detach().to(torch.float64)).pow(2).sum().item()
    signal = r.pow(2).sum().item()
    if noise == 0:
        return math.inf
    if signal == 0:
        return -math.inf
    return 10 * math.log10(signal / noise)
