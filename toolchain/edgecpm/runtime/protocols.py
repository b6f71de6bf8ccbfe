"""What callers need of a model, whatever runs it: typed contracts instead of asking an object
what it has (``hasattr``).

``CausalLM``: the eager model (``MiniCPMForCausalLM``), an exported program (``pte.PteModel``)
and the CUDA reference (``cuda.OnDevice``); ``generate``, ``eval`` and ``bench`` take any of them.
``SpeculativeBase`` / ``SpeculativeDraft``: the two sides of speculative decoding, for an eager
model (``eager.EagerBase``, ``EagleDraft``) or a program's methods (``spec_program``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import torch

    from edgecpm.model.config import MiniCPMConfig


class CausalLM(Protocol):
    config: MiniCPMConfig
    max_seq_len: int   # KV-cache positions: prompt + new tokens must fit

    def reset_caches(self) -> None: ...

    def __call__(self, tokens: torch.Tensor, input_pos: torch.Tensor) -> torch.Tensor:
        """tokens [1, T], input_pos [T] -> logits [1, T, vocab], extending the KV cache."""


class SpeculativeBase(Protocol):
    config: MiniCPMConfig
    max_seq_len: int

    def reset_caches(self) -> None: ...

    def verify(self, tokens: torch.Tensor, input_pos: torch.Tensor, cache_pos: torch.Tensor | None = None,
               attn_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """tokens [T] at rope positions ``input_pos``, written to cache slots ``cache_pos``
        (default: the positions), attending by ``attn_mask`` [T, max_seq_len] (default: causal)
        -> (hidden [T, h], logits [T, vocab])."""

    def compact_caches(self, src: torch.Tensor, dst: torch.Tensor) -> None:
        """Move KV-cache slots ``src`` to ``dst`` (the accepted path, made contiguous)."""


class SpeculativeDraft(Protocol):
    config: MiniCPMConfig
    max_seq_len: int
    vocab_ids: torch.Tensor | None   # the FR-Spec subset its logits index; None: the full vocabulary

    def reset_cache(self) -> None: ...

    def step(self, tokens: torch.Tensor, hidden: torch.Tensor, input_pos: torch.Tensor,
             cache_pos: torch.Tensor | None = None, attn_mask: torch.Tensor | None = None
             ) -> tuple[torch.Tensor, torch.Tensor]:
        """(token, base hidden) pairs -> (draft hidden [T, h], logits [T, N])."""

    def to_full_ids(self, ids: torch.Tensor) -> torch.Tensor: ...
