"""Named MiniCPM4 shapes (gpt-fast's habit: pick a model by name, including a tiny one for tests).

The 0.5B values are the released config (``shared/data/minicpm4-0.5b/config.json``). The 8B
LongRoPE factors are not in this repository: the presets stretch the 0.5B curve to 64 entries
(unconfirmed; real factors come from the checkpoint's own config.json, which always wins).
"""

from __future__ import annotations

import copy

from edgecpm.errors import ConfigError
from edgecpm.attention.sparse_config import SparseConfig
from edgecpm.model.config import MiniCPMConfig, RopeScaling

# Released MiniCPM4-0.5B LongRoPE factors (head_dim 64 → 32 factors; short == long).
MINICPM4_05B_FACTORS = [
    1.0004360675811768, 1.0668443441390991, 1.1631425619125366, 1.3025742769241333,
    1.5040205717086792, 1.7941505908966064, 2.2101221084594727, 2.802666664123535,
    3.6389970779418945, 4.804192543029785, 6.39855432510376, 8.527148246765137,
    11.277542114257812, 14.684998512268066, 18.69317054748535, 23.13019371032715,
    27.72362518310547, 32.1606559753418, 36.168827056884766, 39.57627868652344,
    42.32667541503906, 44.45526885986328, 46.04962921142578, 47.21482849121094,
    48.05115509033203, 48.64370346069336, 49.05967712402344, 49.34980392456055,
    49.551246643066406, 49.69068145751953, 49.78697967529297, 49.85338592529297,
]


def _stretch(factors: list[float], n: int) -> list[float]:
    """Linear interpolation of a factor curve onto n points (placeholder for unknown 8B factors)."""
    m = len(factors)
    out = []
    for i in range(n):
        x = i * (m - 1) / (n - 1)
        lo = int(x)
        hi = min(lo + 1, m - 1)
        out.append(factors[lo] + (factors[hi] - factors[lo]) * (x - lo))
    return out


def _longrope(factors: list[float], original: int) -> RopeScaling:
    return RopeScaling(short_factor=list(factors), long_factor=list(factors),
                       original_max_position_embeddings=original)


_8B_SPARSE = SparseConfig(kernel_size=32, kernel_stride=16, init_blocks=1, block_size=64,
                          window_size=2048, topk=64, use_nope=False, dense_len=8192)

PRESETS: dict[str, MiniCPMConfig] = {
    # The embedded default model's shape (edgecpm/assets/tiny): every MiniCPM4 quirk, 5M params.
    "tiny": MiniCPMConfig(
        vocab_size=8192, hidden_size=256, intermediate_size=1024, num_hidden_layers=4,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
        rms_norm_eps=1e-5, rope_scaling=_longrope(MINICPM4_05B_FACTORS, 1024),
        scale_emb=12.0, dim_model_base=64, scale_depth=1.4, tie_word_embeddings=True,
        bos_token_id=1, eos_token_id=[2], pad_token_id=0, initializer_range=0.1,
        torch_dtype="float32",
    ),
    "minicpm4-0.5b": MiniCPMConfig(
        vocab_size=73448, hidden_size=1024, intermediate_size=4096, num_hidden_layers=24,
        num_attention_heads=16, num_key_value_heads=2, max_position_embeddings=32768,
        rms_norm_eps=1e-5, rope_scaling=_longrope(MINICPM4_05B_FACTORS, 32768),
        tie_word_embeddings=True,
    ),
    "minicpm4-8b": MiniCPMConfig(
        vocab_size=73448, hidden_size=4096, intermediate_size=16384, num_hidden_layers=32,
        num_attention_heads=32, num_key_value_heads=2, max_position_embeddings=32768,
        rms_norm_eps=1e-6, rope_scaling=_longrope(_stretch(MINICPM4_05B_FACTORS, 64), 32768),
        tie_word_embeddings=False, sparse_config=_8B_SPARSE,
    ),
    # 4.1: 64K positions over a 32K original window, so the long factors and the attention
    # scaling sqrt(1 + ln 2 / ln 32768) apply (original window unconfirmed).
    "minicpm4.1-8b": MiniCPMConfig(
        vocab_size=73448, hidden_size=4096, intermediate_size=16384, num_hidden_layers=32,
        num_attention_heads=32, num_key_value_heads=2, max_position_embeddings=65536,
        rms_norm_eps=1e-6, rope_scaling=_longrope(_stretch(MINICPM4_05B_FACTORS, 64), 32768),
        tie_word_embeddings=False, sparse_config=_8B_SPARSE,
    ),
}


def preset(name: str) -> MiniCPMConfig:
    """A fresh copy of a named configuration (callers may edit it)."""
    try:
        return copy.deepcopy(PRESETS[name]).validate(f"preset {name!r}")
    except KeyError:
        raise ConfigError(
            f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}") from None
