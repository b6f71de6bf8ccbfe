"""Perplexity over a token stream: non-overlapping windows of ``ctx`` tokens, each scored from
scratch (no carried context), every token after the first of a window predicted once.

The training script reports its held-out perplexity with this same function, so the README's
number and ``edgecpm eval`` agree by construction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class PerplexityResult:
    ppl: float
    nll: float  # mean negative log-likelihood per token, nats
    tokens: int


@torch.no_grad()
def perplexity(model, ids: torch.Tensor, ctx: int, progress=None) -> PerplexityResult:
    if ctx > model.max_seq_len:
        raise ValueError(f"--ctx {ctx} exceeds the model's cache length {model.max_seq_len}")
    was_training = model.training
    model.eval()
    nll, count = 0.0, 0
    for s in range(0, ids.numel() - 1, ctx):
        x = ids[s:s + ctx + 1]
        if x.numel() < 2:
            break
        logits = model(x[:-1].unsqueeze(0))
        nll += F.cross_entropy(logits[0], x[1:], reduction="sum").item()
        count += x.numel() - 1
        if progress is not None:
            progress(x.numel() - 1)
    model.train(was_training)
    if count == 0:
        raise ValueError("the evaluation text is shorter than two tokens")
    return PerplexityResult(math.exp(nll / count), nll / count, count)
