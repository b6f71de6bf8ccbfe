"""What a checkpoint directory holds, read without building the model: its safetensors files, the
tensor index over them, config.json, and the tensor shapes that config implies.

Both loaders (float: ``loader``; edgecpm-quantized: ``quantized``) and the writers that check
their input start here, so neither loader needs the other's module for it.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from edgecpm.checkpoint.safetensors_file import TensorEntry, read_header
from edgecpm.checkpoint.writer import INDEX_NAME
from edgecpm.errors import CheckpointError
from edgecpm.model.config import MiniCPMConfig
from edgecpm.model.minicpm import MiniCPMForCausalLM


def checkpoint_files(model_dir: Path) -> list[Path]:
    """The safetensors files of a checkpoint, from its index when sharded."""
    index = model_dir / INDEX_NAME
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text())["weight_map"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise CheckpointError(f"{index}: not a valid safetensors index (no weight_map)") from None
        files = [model_dir / f for f in sorted(set(weight_map.values()))]
        missing = [f.name for f in files if not f.is_file()]
        if missing:
            raise CheckpointError(f"{index}: lists shard(s) that are not in {model_dir}: "
                                  f"{', '.join(missing)}; the download is incomplete")
        return files
    files = sorted(model_dir.glob("*.safetensors"))
    if files:
        return files
    if any(model_dir.glob("*.bin")) or any(model_dir.glob("*.pt")):
        raise CheckpointError(
            f"{model_dir}: has only pickled weights (*.bin / *.pt); edgecpm never unpickles. "
            "Convert them to safetensors first (e.g. with the `safetensors` convert script).")
    raise CheckpointError(f"{model_dir}: no *.safetensors files found")


def read_index(model_dir: Path) -> dict[str, TensorEntry]:
    entries: dict[str, TensorEntry] = {}
    for f in checkpoint_files(model_dir):
        for name, entry in read_header(f).items():
            if name in entries:
                raise CheckpointError(f"{f}: tensor {name!r} is also in {entries[name].file}")
            entries[name] = entry
    return entries


def load_config(model_dir: str | Path) -> MiniCPMConfig:
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise CheckpointError(f"{model_dir}: not a directory (expected a Hugging Face model directory)")
    return MiniCPMConfig.from_json_file(model_dir / "config.json")


def expected_shapes(cfg: MiniCPMConfig) -> dict[str, tuple[int, ...]]:
    with torch.device("meta"):
        model = MiniCPMForCausalLM(cfg)
    shapes = {n: tuple(p.shape) for n, p in model.state_dict().items()}
    if cfg.tie_word_embeddings:
        shapes.pop("lm_head.weight")
    return shapes
