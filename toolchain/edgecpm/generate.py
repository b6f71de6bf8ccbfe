"""Eager generation with the static KV cache: prefill the prompt in one call, decode token by token.

Sampling: greedy at temperature 0, else temperature → top-k → top-p (nucleus) → multinomial with
a seeded generator, so ``--seed`` reproduces a run exactly.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

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


@dataclass
class GenerationResult:
    prompt_tokens: list[int]
    tokens: list[int] = field(default_factory=list)
    prefill_s: float = 0.0
    decode_s: float = 0.0
    stopped_on_eos: bool = False

    @property
    def prefill_tok_s(self) -> float:
        return len(self.prompt_tokens) / self.prefill_s if self.prefill_s else 0.0

    @property
    def decode_tok_s(self) -> float:
        # The first new token comes out of prefill; decode steps made the rest.
        steps = max(len(self.tokens) - 1, 0)
        return steps / self.decode_s if self.decode_s else 0.0


@torch.no_grad()
def generate(model, prompt: list[int], max_new_tokens: int, sampling: SamplingConfig | None = None,
             eos_ids: list[int] | None = None, on_token: Callable[[int], None] | None = None) -> GenerationResult:
    sampling = sampling or SamplingConfig()
    if not prompt:
        raise ValueError("the prompt is empty (no tokens)")
    if max_new_tokens < 1:  # the first token comes out of prefill: 0 would still make one
        raise ValueError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
    need = len(prompt) + max_new_tokens
    if need > model.max_seq_len:
        raise ValueError(f"prompt ({len(prompt)} tokens) + {max_new_tokens} new tokens exceeds the KV "
                         f"cache ({model.max_seq_len}); pass a larger --max-seq-len or fewer tokens")
    gen = torch.Generator().manual_seed(sampling.seed) if sampling.seed is not None else None
    eos = set(eos_ids or [])
    result = GenerationResult(prompt_tokens=list(prompt))
    model.reset_caches()

    t0 = time.perf_counter()
    logits = model(torch.tensor([prompt]), torch.arange(len(prompt)))[0, -1]
    token = sample(logits, sampling, gen)
    result.prefill_s = time.perf_counter() - t0
    pos = len(prompt)
    t0 = time.perf_counter()
    while True:
        result.tokens.append(token)
        if on_token is not None:
            on_token(token)
        if token in eos:
            result.stopped_on_eos = True
            break
        if len(result.tokens) >= max_new_tokens:
            break
        logits = model(torch.tensor([[token]]), torch.tensor([pos]))[0, -1]
        token = sample(logits, sampling, gen)
        pos += 1
    result.decode_s = time.perf_counter() - t0
    return result


class TextStream:
    """Turns a growing list of ids into printable text increments.

    Byte-level and byte-fallback tokenizers can split one character over several tokens; the
    partial character decodes to U+FFFD, so we hold text back until it stops ending in one.
    """

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.ids: list[int] = []
        self.emitted = 0

    def push(self, token: int) -> str:
        self.ids.append(token)
        text = self.tokenizer.decode(self.ids)
        if text.endswith("\ufffd"):
            return ""
        new = text[self.emitted:]
        self.emitted = len(text)
        return new
