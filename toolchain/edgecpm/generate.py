"""Generation with the static KV cache, on any backend (``runtime.protocols.CausalLM``: the eager
model, a program, the CUDA reference): prefill the prompt in one call, decode token by token,
sampling with ``runtime.sampling``.
"""

from __future__ import annotations

import time
from typing import Callable

import torch

from edgecpm.runtime.protocols import CausalLM
from edgecpm.runtime.result import GenerationResult
from edgecpm.runtime.sampling import SamplingConfig, sample


@torch.no_grad()
def generate(model: CausalLM, prompt: list[int], max_new_tokens: int, sampling: SamplingConfig | None = None,
             eos_ids: list[int] | None = None, on_token: Callable[[int], None] | None = None,
             context: list[int] = ()) -> GenerationResult:
    """``context``: ids prefilled first and untimed (``bench --depth``); the prompt follows at
    positions ``len(context)`` ..., and ``prefill_s`` times its chunk alone."""
    sampling = sampling or SamplingConfig()
    if not prompt:
        raise ValueError("the prompt is empty (no tokens)")
    if max_new_tokens < 1:  # the first token comes out of prefill: 0 would still make one
        raise ValueError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
    need = len(context) + len(prompt) + max_new_tokens
    if need > model.max_seq_len:
        before = f"context ({len(context)} tokens) + " if context else ""
        raise ValueError(f"{before}prompt ({len(prompt)} tokens) + {max_new_tokens} new tokens exceeds the KV "
                         f"cache ({model.max_seq_len}); pass a larger --max-seq-len or fewer tokens")
    gen = torch.Generator().manual_seed(sampling.seed) if sampling.seed is not None else None
    eos = set(eos_ids or [])
    result = GenerationResult(prompt_tokens=list(prompt))
    model.reset_caches()
    start = len(context)
    if context:   # its logits come back to the CPU, so any GPU work ends before the clock starts
        model(torch.tensor([list(context)]), torch.arange(start))

    t0 = time.perf_counter()
    logits = model(torch.tensor([prompt]), torch.arange(start, start + len(prompt)))[0, -1]
    token = sample(logits, sampling, gen)
    result.prefill_s = time.perf_counter() - t0
    pos = start + len(prompt)
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
