"""LongRoPE rotary tables for MiniCPM4 (MINICPM4.md §2), computed in fp32.

Follows the official ``MiniCPMLongRoPE``: the inverse frequencies are divided by the long factors
when the sequence length exceeds ``original_max_position_embeddings`` (else by the short ones),
and cos/sin are both multiplied by ``sqrt(1 + ln(max_pos / orig) / ln(orig))``.

Which length: the official module builds its table for ``max_position_embeddings`` positions up
front and rebuilds it when a call's KV length (``max(position_ids) + 1``, the cache before the
call included) is larger, choosing the factors from the table's new length. So a call of length
L uses the long factors iff ``max(max_position_embeddings, L) > original`` — the same set for
every row of the call. The KV-cache size (``max_seq_len``) plays no part: a prompt's logits do not
depend on how long a cache was allocated for it. Keys already in the cache keep the rotation they
were given (the official cache stores rotated keys), so a decode that crosses the threshold
rotates only its own query and key with the long set.

Two places where "the call" is ours, not the official one: an exported program prefills a long
prompt in chunks (``prefill_chunk``), each chunk choosing by its own end, as the official model
fed those chunks would; and the official module never shrinks its grown table, so after a long
sequence it keeps the long set for later, shorter ones (and after a speculative rollback below
the threshold), where we choose again from each call.

``rope_tables`` gives both sets as static ``max_seq_len``-row tables (``long_from``: the first
length that takes the long set, None when one set serves every length up to ``max_seq_len``);
the model selects between them per call from its positions, inside the exported graph.
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


def uses_long_factors(cfg: MiniCPMConfig, length: int) -> bool:
    """Whether a call whose KV length is ``length`` rotates with the long factors."""
    rs = cfg.rope_scaling
    return rs is not None and max(cfg.max_position_embeddings, length) > rs.original_max_position_embeddings


def long_from(cfg: MiniCPMConfig, max_seq_len: int) -> int | None:
    """The smallest KV length (1..max_seq_len) that switches to the long factors, when some but not
    all lengths do and the two sets differ; None when one table serves every call."""
    rs = cfg.rope_scaling
    if rs is None or rs.short_factor == rs.long_factor:
        return None
    first = rs.original_max_position_embeddings + 1
    if uses_long_factors(cfg, 1) or first > max_seq_len:
        return None
    return first


def _table(cfg: MiniCPMConfig, max_seq_len: int, factors: list[float] | None) -> tuple[torch.Tensor, torch.Tensor]:
    inv_freq = inverse_frequencies(cfg)
    t = torch.arange(max_seq_len, dtype=torch.float32)
    if factors is None:
        freqs, scaling = torch.outer(t, inv_freq), 1.0
    else:
        ext = torch.tensor(factors, dtype=torch.float32)
        freqs, scaling = torch.mul(torch.outer(t, 1.0 / ext), inv_freq), attention_scaling(cfg)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos() * scaling, emb.sin() * scaling


def rope_tables(cfg: MiniCPMConfig, max_seq_len: int, long: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(cos, sin), each [max_seq_len, head_dim] fp32, NeoX layout (the two halves repeat).

    ``long``: which factor set (ignored without rope_scaling); None: the set the longest call,
    ``max_seq_len``, would use — the only one when ``long_from`` is None."""
    rs = cfg.rope_scaling
    if rs is None:
        return _table(cfg, max_seq_len, None)
    if long is None:
        long = uses_long_factors(cfg, max_seq_len)
    return _table(cfg, max_seq_len, rs.long_factor if long else rs.short_factor)


class RopeTables(torch.nn.Module):
    """The model's rotary tables and the per-call factor choice. Buffers ``rope_cos``/``rope_sin``
    [max_seq_len, head_dim]; when the choice can change within ``max_seq_len`` (``long_from``),
    also ``rope_cos_long``/``rope_sin_long``, and ``rope_cos``/``rope_sin`` hold the short set."""

    def __init__(self, cfg: MiniCPMConfig, max_seq_len: int, device: torch.device | str | None = None):
        super().__init__()
        self.config, self.long_from = cfg, long_from(cfg, max_seq_len)
        switching = self.long_from is not None
        cos, sin = rope_tables(cfg, max_seq_len, long=False if switching else None)
        self.register_buffer("rope_cos", cos.to(device), persistent=False)
        self.register_buffer("rope_sin", sin.to(device), persistent=False)
        if switching:
            cos, sin = rope_tables(cfg, max_seq_len, long=True)
            self.register_buffer("rope_cos_long", cos.to(device), persistent=False)
            self.register_buffer("rope_sin_long", sin.to(device), persistent=False)

    def first(self, t: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Rows 0..t-1 for a call without a cache: its length t is a shape, so the choice is static."""
        if self.long_from is not None and t >= self.long_from:
            return self.rope_cos_long[:t], self.rope_sin_long[:t]
        return self.rope_cos[:t], self.rope_sin[:t]

    def rows(self, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Rows ``positions`` [T] for one call, all from the set its length max(positions) + 1 selects.
        A tensor select, not a Python branch: an exported program decides at run time."""
        cos, sin = self.rope_cos[positions], self.rope_sin[positions]
        if self.long_from is None:
            return cos, sin
        long = positions.amax() + 1 >= self.long_from
        return (torch.where(long, self.rope_cos_long[positions], cos),
                torch.where(long, self.rope_sin_long[positions], sin))
