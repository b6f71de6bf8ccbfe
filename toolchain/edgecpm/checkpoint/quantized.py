"""Quantized MiniCPM4 checkpoints: write them by streaming a float one, and load them back.

Layout of a quantized directory (an HF directory plus one file):

- ``config.json``: the model's config, unchanged;
- ``model*.safetensors``: every non-linear tensor as it was (embeddings, norms, an untied head)
  and, for each decoder-block linear ``P``, its packed tensors ``P.packed`` [+ ``P.scales``]
  (ternary) or ``P.qweight``, ``P.scales`` [+ ``P.zeros``] (int4) instead of ``P.weight``;
- ``quant_config.json``: the scheme (versioned, see ``edgecpm.quant.config``), and the sha256
  of each safetensors file, checked on load (a corrupt packed file is named, not misread);
- the tokenizer files, copied.

Round-to-nearest and ternary stream tensor by tensor: peak memory is one shard being written
plus one tensor, never the model. GPTQ needs activations and holds the float model (see
``gptq_calibration``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import torch
from edgecpm.atomic import check_output_dir
from edgecpm.checkpoint.contents import expected_shapes, load_config, read_index
from edgecpm.checkpoint.safetensors_file import TensorEntry, iter_tensors
from edgecpm.checkpoint.writer import write_checkpoint
from edgecpm.checksum import file_sha256
from edgecpm.errors import CheckpointError, QuantError
from edgecpm.model.minicpm import is_block_linear
from edgecpm.quant.api import from_prepared, quantized_linear
from edgecpm.quant.linear import quantize_table
from edgecpm.quant.config import QUANT_CONFIG_NAME, Int4Config, QuantConfig, config_to_dict, read_quant_config

TABLES = ("model.embed_tokens", "lm_head")  # what `embeddings=int8|int4` quantizes
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "tokenizer_config.json", "added_tokens.json",
                   "special_tokens_map.json", "generation_config.json")


@dataclass
class QuantSummary:
    """Per kind of tensor: count, parameters, bytes before and after."""

    rows: dict[str, list[int]] = field(default_factory=dict)

    def add(self, kind: str, params: int, before: int, after: int) -> None:
        row = self.rows.setdefault(kind, [0, 0, 0, 0])
        for i, v in enumerate((1, params, before, after)):
            row[i] += v

    def totals(self) -> tuple[int, int, int]:
        """(parameters, bytes before, bytes after) over every tensor."""
        rows = list(self.rows.values())
        return tuple(sum(r[i] for r in rows) for i in (1, 2, 3))

    def table(self) -> str:
        lines = ["| tensors | count | params | bits/weight | MiB before | MiB after |",
                 "| --- | --- | --- | --- | --- | --- |"]
        total = [0, 0, 0, 0]
        for kind, (n, params, before, after) in self.rows.items():
            lines.append(f"| {kind} | {n} | {params:,} | {8 * after / params:.4g} | "
                         f"{before / 2**20:.2f} | {after / 2**20:.2f} |")
            total = [a + b for a, b in zip(total, (n, params, before, after))]
        n, params, before, after = total
        lines.append(f"| **total** | {n} | {params:,} | {8 * after / params:.4g} | "
                     f"{before / 2**20:.2f} | {after / 2**20:.2f} |")
        return "\n".join(lines)


def _nbytes(t: torch.Tensor) -> int:
    return t.numel() * t.element_size()


def _describe(config: QuantConfig) -> str:
    if isinstance(config, Int4Config):
        kind = "sym" if config.symmetric else "asym"
        return f"block linears → int4 {kind} g{config.group_size} ({config.method})"
    g = config.group_size or "per-channel"
    return f"block linears → ternary {config.layout.upper()} g{g}"


def _linear_tensors(prefix: str, module: torch.nn.Module) -> Iterator[tuple[str, torch.Tensor]]:
    for name, buf in module.named_buffers():
        yield f"{prefix}.{name}", buf


def quantized_tensors(model_dir: Path, config: QuantConfig, summary: QuantSummary,
                      prepared: dict | None = None) -> Iterator[tuple[str, torch.Tensor]]:
    """The quantized checkpoint's tensors, one source tensor read at a time."""
    cfg = load_config(model_dir)
    entries = read_index(model_dir)
    shapes = expected_shapes(cfg)
    missing = [n for n in shapes if n not in entries]
    if missing:
        raise CheckpointError(f"{model_dir}: tensor {missing[0]!r} is missing; cannot quantize an incomplete checkpoint")
    for entry, t in iter_tensors(entries[n] for n in shapes):
        name, path = entry.name, entry.file
        module_path = name.removesuffix(".weight")
        if name.endswith(".weight") and is_block_linear(module_path):
            try:
                if prepared is not None:
                    module = from_prepared(prepared[module_path], config)
                else:
                    module = quantized_linear(t, config)
            except QuantError as e:
                raise QuantError(f"{path}: tensor {name!r}: {e}") from None
            out = list(_linear_tensors(module_path, module))
            summary.add(_describe(config), t.numel(), _nbytes(t), sum(_nbytes(b) for _, b in out))
            yield from out
        elif module_path in TABLES and config.embeddings != "fp":
            out = [(f"{module_path}.{k}", v) for k, v in quantize_table(t, config.embeddings).items()]
            summary.add(f"embeddings / head → {config.embeddings}", t.numel(), _nbytes(t),
                        sum(_nbytes(b) for _, b in out))
            yield from out
        else:
            kind = "norms (kept)" if t.dim() == 1 else "embeddings / head (kept)"
            summary.add(kind, t.numel(), _nbytes(t), _nbytes(t))
            yield name, t


def quantize_checkpoint(model_dir: str | Path, out_dir: str | Path, config: QuantConfig,
                        prepared: dict | None = None, overwrite: bool = False, progress=None) -> QuantSummary:
    """Write ``out_dir`` (atomically) from the float checkpoint ``model_dir``."""
    model_dir = Path(model_dir)
    config.validate()
    check_output_dir(out_dir, overwrite)
    cfg = load_config(model_dir)
    summary = QuantSummary()
    extra = {name: (model_dir / name).read_bytes() for name in TOKENIZER_FILES if (model_dir / name).is_file()}

    def finalize(tmp: Path) -> None:
        files = {p.name: file_sha256(p) for p in sorted(tmp.glob("*.safetensors"))}
        raw = config_to_dict(config, {"source": str(model_dir), "sha256": files})
        (tmp / QUANT_CONFIG_NAME).write_text(json.dumps(raw, indent=2) + "\n")

    write_checkpoint(out_dir, cfg, quantized_tensors(model_dir, config, summary, prepared),
                     extra_files=extra, overwrite=overwrite, progress=progress, finalize=finalize)
    return summary


# ---- loading ----

def verify_checksums(model_dir: Path, raw: dict) -> None:
    for name, want in raw.get("sha256", {}).items():
        path = model_dir / name
        if not path.is_file():
            raise CheckpointError(f"{path}: listed in {QUANT_CONFIG_NAME} but missing; re-run `edgecpm quantize`")
        if file_sha256(path) != want:
            raise CheckpointError(f"{path}: sha256 does not match {QUANT_CONFIG_NAME} (corrupt or "
                                  "modified packed file); re-run `edgecpm quantize`")


def _quantized_table(module_path: str, kind: str, tensors: dict, dtype: torch.dtype) -> torch.nn.Module:
    from edgecpm.quant.linear import QuantizedEmbedding

    table = QuantizedEmbedding(kind, tensors, dtype)
    return table if module_path == "model.embed_tokens" else table.head()


def load_quantized_model(model_dir: str | Path, max_seq_len: int, dtype: torch.dtype | None = None,
                         verify: bool = True, progress=None):
    """A MiniCPM4 model whose block linears are TernaryLinear / Int4Linear with the stored bytes."""
    from edgecpm.model.minicpm import MiniCPMForCausalLM
    from edgecpm.quant.api import set_submodule
    from edgecpm.quant.linear import linear_from_tensors

    model_dir = Path(model_dir)
    found = read_quant_config(model_dir)
    if found is None:
        raise CheckpointError(f"{model_dir}: no {QUANT_CONFIG_NAME}; not a quantized checkpoint")
    config, raw = found
    if verify:
        verify_checksums(model_dir, raw)
    cfg = load_config(model_dir)
    entries: dict[str, TensorEntry] = read_index(model_dir)
    expected = expected_shapes(cfg)
    quantized_modules = {n.removesuffix(".weight") for n in expected if is_block_linear(n.removesuffix(".weight"))}
    if config.embeddings != "fp":
        quantized_modules |= {m for m in TABLES if f"{m}.weight" in expected}
    float_names = [n for n in expected if n.removesuffix(".weight") not in quantized_modules]
    missing = [n for n in float_names if n not in entries]
    if missing:
        raise CheckpointError(f"{model_dir}: tensor {missing[0]!r} is missing from the quantized checkpoint")
    if dtype is None:
        dtype = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[
            entries["model.norm.weight"].dtype]
    with torch.device("meta"):
        model = MiniCPMForCausalLM(cfg)
    groups: dict[str, dict[str, torch.Tensor]] = {}
    for entry, t in iter_tensors(entries.values()):
        name, path = entry.name, entry.file
        module_path, _, leaf = name.rpartition(".")
        if module_path in quantized_modules:
            groups.setdefault(module_path, {})[leaf] = t
        elif name in float_names:
            model.get_submodule(module_path)._parameters[leaf] = torch.nn.Parameter(
                t.to(dtype), requires_grad=False)
        else:
            raise CheckpointError(f"{path}: unexpected tensor {name!r} in a quantized checkpoint")
        if progress is not None:
            progress(name)
    for module_path in sorted(quantized_modules):
        if module_path not in groups:
            raise CheckpointError(f"{model_dir}: packed tensors for {module_path!r} are missing")
        try:
            if module_path in TABLES:
                new = _quantized_table(module_path, config.embeddings, groups[module_path], dtype)
            else:
                new = linear_from_tensors(config.scheme, getattr(config, "layout", ""), groups[module_path])
        except KeyError as e:
            raise CheckpointError(f"{model_dir}: {module_path!r} lacks its {e.args[0]!r} tensor") from None
        set_submodule(model, module_path, new)
    if cfg.tie_word_embeddings:
        if config.embeddings == "fp":
            model.lm_head.weight = model.model.embed_tokens.weight
        else:
            model.lm_head = model.model.embed_tokens.head()  # the same buffers, read as a linear
    model.eval()
    model.setup_caches(max_seq_len, dtype=dtype)
    model.quant_config = config
    return model
