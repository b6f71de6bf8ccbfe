"""What an eager model's weights are and what they weigh: the scheme's name and the stored bytes.

Shared by ``export`` (the manifest records both) and, through ``edgecpm.runtime.footprint``, by
``eval`` and ``bench``, which report them for eager models and programs alike.
"""

from __future__ import annotations

from edgecpm.model.minicpm import is_block_linear

# Derived buffers (rotary tables, position indices), not weights: not counted in a model's size.
_TABLES = {"rope_cos", "rope_sin", "rope_cos_long", "rope_sin_long", "positions"}


def describe_scheme(model) -> str:
    """'float32', 'ternary TQ2 g128', 'int4 sym g128 gptq + int8 emb'... of an eager model."""
    qc = getattr(model, "quant_config", None)
    if qc is None:
        return str(model.model.norm.weight.dtype).removeprefix("torch.")
    emb = "" if qc.embeddings == "fp" else f" + {qc.embeddings} emb"
    if qc.scheme == "ternary":
        return f"ternary {qc.layout.upper()} g{qc.group_size or 'ch'}{emb}"
    return f"int4 {'sym' if qc.symmetric else 'asym'} g{qc.group_size} {qc.method}{emb}"


def weight_bytes(model) -> tuple[float, float]:
    """(bits per weight of block linears, total MiB of stored weights) of an eager model: its
    parameters and buffers, each stored tensor once, without the KV cache and rope tables."""
    block_bits = block_params = total = 0
    seen = set()
    for mod_name, mod in model.named_modules():
        tensors = list(mod.named_parameters(recurse=False)) + [
            (n, b) for n, b in mod.named_buffers(recurse=False) if n not in {"k_cache", "v_cache"}]
        for name, t in tensors:
            if t is None or t.data_ptr() in seen or name in _TABLES:
                continue
            seen.add(t.data_ptr())
            nbytes = t.numel() * t.element_size()
            total += nbytes
            if is_block_linear(mod_name):
                block_bits += 8 * nbytes
                block_params += getattr(mod, "in_features", 0) * getattr(mod, "out_features", 0) \
                    if name in {"packed", "qweight", "weight"} else 0
    return block_bits / max(block_params, 1), total / 2**20
