"""LongRoPE rotary tables for MiniCPM4 (MINICPM4.md §2), computed in fp32.

Follows the official ``MiniCPMLongRoPE``: the inverse frequencies are divided by the long factors
when the cached length exceeds ``original_max_position_embeddings`` (else by the short ones), and
cos/sin are both multiplied by ``sqrt(1 + ln(max_pos / orig) / ln(orig))``. The official module
builds its cache for ``max_position_embeddings`` positions up front, so the factor choice follows
``max(max_position_embeddings, cached length)``; we build static tables of ``max_seq_len`` rows
with the same choice, which is what makes them exportable as plain buffers.
"""

from __future__ import annotations

import math

import torch

from edgecpm.model.config import MiniCPMConfig


def inverse_frequencies(cfg: MiniCPMConfig) -> torch.Tensor:
    d = cfg.head_dim
    return 1.0 / (cfg.rope_theta ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))


def attention_scaling(cfg: MiniCPMConfig) -> float:
    rs = cfg.rope_scaling
    if rs is None:
        return 1.0
    # No clamp at 1: the official code applies the formula as it is, so a config whose
    # max_position_embeddings is below the original window gets a factor below 1.
    scale = cfg.max_position_embeddings / rs.original_max_position_embeddings
    return math.sqrt(1 + math.log(scale) / math.log(rs.original_max_position_embeddings))


def rope_tables(cfg: MiniCPMConfig, max_seq_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(cos, sin), each [max_seq_len, head_dim] fp32, NeoX layout (the two halves repeat)."""
    inv_freq = inverse_frequencies(cfg)
    t = torch.arange(max_seq_len, dtype=torch.float32)
    rs = cfg.rope_scaling
    if rs is None:
        freqs = torch.outer(t, inv_freq)
        scaling = 1.0
    else:
        cached = max(max_seq_len, cfg.max_position_embeddings)
        use_long = cached > rs.original_max_position_embeddings
        ext = torch.tensor(rs.long_factor if use_long else rs.short_factor, dtype=torch.float32)
        freqs = torch.mul(torch.outer(t, 1.0 / ext), inv_freq)
        scaling = attention_scaling(cfg)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos() * scaling, emb.sin() * scaling
