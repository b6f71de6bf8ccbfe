"""``edgecpm init --random``: a random-weight checkpoint at a real shape, for speed work.

Speed does not depend on the weight values, so a random 8B checkpoint in the real layout lets every
later stage (quantize, export, bench) run at full size without a download. Weights are made one
tensor at a time and streamed into shards, so peak memory is one tensor, not the model.

The tokenizer is copied in beside the weights (the tiny preset's embedded one, or the files of
``--tokenizer DIR``), so that ``generate`` and ``eval`` take the checkpoint as it is.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterator

import torch

from edgecpm.checkpoint.contents import expected_shapes
from edgecpm.checkpoint.writer import write_checkpoint
from edgecpm.errors import TokenizerError
from edgecpm.model.config import MiniCPMConfig

# What load_tokenizer reads: tokenizer.json, or tokenizer.model with its added tokens (MiniCPM4).
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "tokenizer_config.json", "added_tokens.json",
                   "special_tokens_map.json")


def random_tensors(cfg: MiniCPMConfig, dtype: torch.dtype, seed: int) -> Iterator[tuple[str, torch.Tensor]]:
    gen = torch.Generator().manual_seed(seed)
    std = cfg.initializer_range
    hidden_std = std / math.sqrt(cfg.hidden_size / cfg.dim_model_base)
    for name, shape in expected_shapes(cfg).items():
        if name.endswith("norm.weight"):
            yield name, torch.ones(shape, dtype=dtype)
        else:
            s = std if "embed_tokens" in name else hidden_std
            yield name, torch.empty(shape).normal_(0.0, s, generator=gen).to(dtype)


def write_random_checkpoint(cfg: MiniCPMConfig, out_dir: str | Path, dtype: torch.dtype = torch.bfloat16,
                            seed: int = 0, overwrite: bool = False, extra_files=None, progress=None) -> Path:
    cfg.torch_dtype = str(dtype).removeprefix("torch.")
    return write_checkpoint(out_dir, cfg, random_tensors(cfg, dtype, seed), extra_files=extra_files,
                            overwrite=overwrite, progress=progress)


def tokenizer_files(source: str | Path, vocab_size: int, option: str = "--tokenizer") -> dict[str, bytes]:
    """The tokenizer files of ``source`` (name → bytes), to write beside the weights. Checked
    before anything is written: edgecpm loads them, and their vocabulary is the model's (ids past
    the embedding table would fail at the first lookup; missing ones would never be produced)."""
    from edgecpm.tokenizer.tokenizer import load_tokenizer

    source = Path(source)
    if not source.is_dir():
        raise TokenizerError(f"{option} {source}: no such directory; pass the folder holding the model's "
                             "tokenizer files")
    if not any((source / name).is_file() for name in ("tokenizer.json", "tokenizer.model")):
        raise TokenizerError(f"{option} {source}: no tokenizer.json or tokenizer.model; pass the folder "
                             "holding the model's tokenizer files")
    vocab = load_tokenizer(source).vocab_size
    if vocab != vocab_size:
        raise TokenizerError(f"{option} {source}: a {vocab}-token vocabulary, the model has {vocab_size}; "
                             "pass the tokenizer made for this model")
    try:
        return {name: (source / name).read_bytes() for name in TOKENIZER_FILES if (source / name).is_file()}
    except OSError as e:
        raise TokenizerError(f"{option} {e.filename}: cannot read it ({e.strerror})") from None
