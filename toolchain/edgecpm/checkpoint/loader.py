"""Load a MiniCPM4 model from a Hugging Face directory, one tensor at a time.

The model is built on the meta device (no memory), then each parameter is read from its
safetensors file (plain reads, see ``read_tensor``) and assigned in place: an 8B checkpoint is materialised once,
never twice. Pickled ``.bin`` checkpoints are refused (never unpickle), and no code from the
checkpoint directory is ever run (``auto_map`` is ignored).
"""

from __future__ import annotations

from pathlib import Path

import torch
from edgecpm.checkpoint.contents import expected_shapes, load_config, read_index
from edgecpm.checkpoint.quantized import load_quantized_model
from edgecpm.checkpoint.safetensors_file import iter_tensors
from edgecpm.errors import CheckpointError
from edgecpm.model.minicpm import MiniCPMForCausalLM

_FLOAT_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
# Buffers some exporters write that carry no information for us.
_IGNORED_SUFFIXES = (".rotary_emb.inv_freq",)
# KV cache length when the caller names none: the full 32K window would cost ~0.8 GB of fp32
# cache for the 0.5B, which a quick generate does not need.
DEFAULT_MAX_SEQ_LEN = 4096


def load_model(model_dir: str | Path, dtype: torch.dtype | None = None,
               max_seq_len: int | None = None, progress=None) -> MiniCPMForCausalLM:
    """The model in ``dtype`` (default: the checkpoint's), with caches for ``max_seq_len``.

    ``progress``, if given, is called once per tensor loaded.
    """
    model_dir = Path(model_dir)
    cfg = load_config(model_dir)
    max_seq_len = max_seq_len or min(cfg.max_position_embeddings, DEFAULT_MAX_SEQ_LEN)
    if (model_dir / "quant_config.json").is_file():
        return load_quantized_model(model_dir, max_seq_len, dtype, progress=progress)
    entries = read_index(model_dir)
    shapes = expected_shapes(cfg)

    missing = [n for n in shapes if n not in entries]
    if missing:
        where = ", ".join(sorted({e.file.name for e in entries.values()})) or "no files"
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise CheckpointError(f"{model_dir}: tensor {missing[0]!r}{more} is missing from {where}; "
                              "is this checkpoint complete, and does config.json match it?")
    for name, shape in shapes.items():
        e = entries[name]
        if e.shape != shape:
            raise CheckpointError(f"{e.file}: tensor {name!r} has shape {list(e.shape)}, but "
                                  f"{model_dir / 'config.json'} implies {list(shape)}")
        if e.dtype not in _FLOAT_DTYPES:
            raise CheckpointError(
                f"{e.file}: tensor {name!r} is {e.dtype}; expected a float checkpoint "
                "(F32/F16/BF16). Quantized weights are loaded through edgecpm's quantized format.")
    unexpected = [n for n in entries if n not in shapes and not n.endswith(_IGNORED_SUFFIXES)
                  and not (n == "lm_head.weight" and cfg.tie_word_embeddings)]
    if unexpected:
        raise CheckpointError(f"{entries[unexpected[0]].file}: unexpected tensor {unexpected[0]!r} "
                              f"({len(unexpected)} in all); config.json may not match the weights")

    if dtype is None:
        dtype = _FLOAT_DTYPES[entries["model.embed_tokens.weight"].dtype]
    with torch.device("meta"):
        model = MiniCPMForCausalLM(cfg)
    for entry, tensor in iter_tensors(entries[n] for n in shapes):
        module_name, _, leaf = entry.name.rpartition(".")
        module = model.get_submodule(module_name)
        module._parameters[leaf] = torch.nn.Parameter(tensor.to(dtype), requires_grad=False)
        if progress is not None:
            progress(entry.name)
    if cfg.tie_word_embeddings:
        model.lm_head.weight = model.model.embed_tokens.weight
    model.eval()
    model.setup_caches(max_seq_len)
    return model
