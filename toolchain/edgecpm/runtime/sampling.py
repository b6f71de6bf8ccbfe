"""Choosing the next token from logits: greedy at temperature 0, else temperature → top-k → top-p
(nucleus) → multinomial with a seeded generator, so ``--seed`` reproduces a run exactly. Plain
and speculative generation draw from the same distribution (``sampling_weights``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass
class SamplingConfig:
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    seed: int | None = None

    def __post_init__(self):
        if not math.isfinite(self.temperature) or self.temperature < 0:
            raise ValueError(f"temperature must be a finite number >= 0, got {self.temperature}")
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0 (0 = off), got {self.top_k}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")


def sampling_weights(logits: torch.Tensor, cfg: SamplingConfig) -> torch.Tensor:
    """The unnormalised [vocab] weights ``sample`` draws from (temperature > 0): temperature, then
    top-k, then top-p. Speculative rejection sampling uses the same distribution."""
    logits = logits / cfg.temperature
    if cfg.top_k > 0:
        kth = torch.topk(logits, min(cfg.top_k, logits.numel())).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    if cfg.top_p < 1.0:
        sorted_p, order = torch.sort(probs, descending=True)
        # Keep the smallest prefix whose mass reaches top_p (always at least one token).
        drop = sorted_p.cumsum(0) - sorted_p >= cfg.top_p
        sorted_p[drop] = 0.0
        probs = torch.zeros_like(probs).scatter_(0, order, sorted_p)
    return probs


def sample(logits: torch.Tensor, cfg: SamplingConfig, gen: torch.Generator | None) -> int:
    """One token id from a [vocab] fp32 logit vector."""
    if cfg.temperature == 0:
        return int(torch.argmax(logits))
    return int(torch.multinomial(sampling_weights(logits, cfg), 1, generator=gen))
