"""What a generation run returns: the tokens and the prefill / decode times (speculative decoding
extends it with its own statistics)."""

from __future__ import annotations

from dataclasses import dataclass, field


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
