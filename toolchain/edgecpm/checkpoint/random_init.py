"""``edgecpm init --random``: a random-weight checkpoint at a real shape, for speed work.

Speed does not depend on the weight values, so a random 8B checkpoint in the real layout lets every
later stage (quantize, export, bench) run at full size without a download. Weights are made one
tensor at a time and streamed into shards, so peak memory is one tensor, not the model.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterator

import torch

from edgecpm.checkpoint.contents import expected_shapes
from edgecpm.checkpoint.writer import write_checkpoint
from edgecpm.model.config import MiniCPMConfig


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
