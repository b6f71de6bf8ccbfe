"""Write a MiniCPM4 checkpoint in the Hugging Face layout (config.json + safetensors [+ index]).

Tensors are written shard by shard, so a model is never held twice: ``tensors`` may be a lazy
iterator (``edgecpm init`` makes an 8B model's weights one tensor at a time). A tied LM head is
not written, as Hugging Face does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator

import torch
from safetensors.torch import save_file

from edgecpm.atomic import atomic_dir
from edgecpm.model.config import MiniCPMConfig

INDEX_NAME = "model.safetensors.index.json"
DEFAULT_SHARD_BYTES = 2 * 1024**3


def _shards(tensors: Iterable[tuple[str, torch.Tensor]], limit: int) -> Iterator[dict[str, torch.Tensor]]:
    shard: dict[str, torch.Tensor] = {}
    size = 0
    for name, t in tensors:
        nbytes = t.numel() * t.element_size()
        if shard and size + nbytes > limit:
            yield shard
            shard, size = {}, 0
        shard[name] = t.contiguous()
        size += nbytes
    if shard:
        yield shard


def _reporting(tensors, progress):
    for name, t in tensors:
        progress(name)
        yield name, t


def write_checkpoint(
    out_dir: str | Path,
    cfg: MiniCPMConfig,
    tensors: Iterable[tuple[str, torch.Tensor]],
    extra_files: dict[str, bytes] | None = None,
    shard_bytes: int = DEFAULT_SHARD_BYTES,
    overwrite: bool = False,
    progress=None,
    finalize=None,
) -> Path:
    """Write ``out_dir`` atomically. Returns its path.

    ``extra_files`` (name → bytes) go beside the weights: tokenizer files, training logs.
    ``progress`` is called with each tensor name as it is consumed, if given.
    ``finalize(tmp_dir)`` runs after everything is written and before the rename (checksums).
    """
    out_dir = Path(out_dir)
    if cfg.tie_word_embeddings:
        tensors = ((n, t) for n, t in tensors if n != "lm_head.weight")
    if progress is not None:
        tensors = _reporting(tensors, progress)
    with atomic_dir(out_dir, overwrite=overwrite) as tmp:
        weight_map: dict[str, str] = {}
        total = 0
        names = []
        for i, shard in enumerate(_shards(tensors, shard_bytes)):
            fname = f"model-{i + 1:05d}.safetensors"
            save_file(shard, str(tmp / fname), metadata={"format": "pt"})
            names.append(fname)
            for n, t in shard.items():
                weight_map[n] = fname
                total += t.numel() * t.element_size()
            del shard
        if len(names) == 1:
            (tmp / names[0]).rename(tmp / "model.safetensors")
        else:
            # Shard names carry the count ("-of-N") only once N is known.
            final = {}
            for i, fname in enumerate(names):
                new = f"model-{i + 1:05d}-of-{len(names):05d}.safetensors"
                (tmp / fname).rename(tmp / new)
                final[fname] = new
            index = {"metadata": {"total_size": total},
                     "weight_map": {n: final[f] for n, f in sorted(weight_map.items())}}
            (tmp / INDEX_NAME).write_text(json.dumps(index, indent=2) + "\n")
        (tmp / "config.json").write_text(json.dumps(cfg.to_hf_dict(), indent=2) + "\n")
        for name, data in (extra_files or {}).items():
            (tmp / name).write_bytes(data)
        if finalize is not None:
            finalize(tmp)
    return out_dir


def state_dict_items(model: torch.nn.Module) -> Iterator[tuple[str, torch.Tensor]]:
    """Parameters of a loaded model under their checkpoint names."""
    for name, p in model.state_dict().items():
        yield name, p.detach()
