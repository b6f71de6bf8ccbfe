"""Shared fixtures: tiny random MiniCPM4 checkpoints in the real HF layout, and the shared/ data."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest
import torch

from edgecpm.checkpoint.random_init import write_random_checkpoint
from edgecpm.model.config import MiniCPMConfig, RopeScaling

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EDGECPM_SHARED", REPO.parent / "shared"))
MINICPM4_05B = SHARED / "data" / "minicpm4-0.5b"


def small_config(tied: bool = True, long_rope: bool = True) -> MiniCPMConfig:
    """MiniCPM4's quirks at toy size: GQA 4/2, LongRoPE with short != long factors, muP scalings.

    ``long_rope`` sets max_position_embeddings above the original window, so the long factors and
    the attention scaling (≠ 1) are in play.
    """
    g = torch.Generator().manual_seed(1)
    head_dim = 16
    short = (1 + torch.rand(head_dim // 2, generator=g) * 3).tolist()
    long = (1 + torch.rand(head_dim // 2, generator=g) * 30).tolist()
    return MiniCPMConfig(
        vocab_size=96, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=128 if long_rope else 64, rms_norm_eps=1e-5,
        rope_scaling=RopeScaling(short_factor=short, long_factor=long, original_max_position_embeddings=64),
        scale_emb=12.0, dim_model_base=16, scale_depth=1.4, tie_word_embeddings=tied,
        bos_token_id=1, eos_token_id=[2], initializer_range=0.1, torch_dtype="float32",
    ).validate()


def make_checkpoint(path: Path, cfg: MiniCPMConfig | None = None, dtype=torch.float32, seed: int = 0) -> Path:
    return write_random_checkpoint(copy.deepcopy(cfg or small_config()), path, dtype=dtype, seed=seed)


@pytest.fixture(scope="session")
def tied_ckpt(tmp_path_factory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("ckpt") / "tied", small_config(tied=True))


@pytest.fixture(scope="session")
def untied_ckpt(tmp_path_factory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("ckpt") / "untied", small_config(tied=False))


@pytest.fixture
def minicpm4_tokenizer_dir() -> Path:
    if not (MINICPM4_05B / "tokenizer.model").is_file():
        pytest.skip(f"real MiniCPM4 tokenizer not found at {MINICPM4_05B} (set EDGECPM_SHARED)")
    return MINICPM4_05B
