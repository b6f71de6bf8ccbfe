"""A MiniCPM4 checkpoint (float or edgecpm-quantized) as a GGUF file for llama.cpp.

llama.cpp knows the architecture as ``minicpm``: the muP scalings travel as metadata
(``embedding_scale`` = scale_emb, ``residual_scale`` = scale_depth / sqrt(L), ``logit_scale`` =
hidden / dim_model_base) and LongRoPE as two small F32 tensors. Its rotary embedding pairs
adjacent dimensions where Hugging Face pairs the two halves, so the rows of q_proj and k_proj are
permuted as llama.cpp's own converter does; our packed layouts are row-wise, so packed rows
permute without re-quantizing.

Quantized block linears go in without re-quantization, byte for byte:

- ternary TQ2_0 / TQ1_0 with the scale in each block's ``d`` (group size a multiple of 256) are
  llama.cpp's TQ2_0 / TQ1_0 already;
- int4 symmetric with group 32 is llama.cpp's Q4_0 (d = scale, q = code - 8), repacked exactly;
- int8 / int4 embedding tables and heads are Q8_0 / Q4_0 values, repacked exactly.

Anything else (ternary with side scales, int4 g64/g128 or asymmetric) has no exact GGUF type: the
export stops and says which ``edgecpm quantize`` options make one, rather than silently
re-quantizing.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from edgecpm.atomic import atomic_path, check_output_file
from edgecpm.checkpoint.contents import load_config, read_index
from edgecpm.checkpoint.safetensors_file import iter_tensors
from edgecpm.errors import QuantError
from edgecpm.model.minicpm import is_block_linear
from edgecpm.quant.config import read_quant_config
from edgecpm.quant.int4 import Int4Weight, pack_q4_0, unpack_int4
from edgecpm.quant.int8 import Int8Weight, pack_q8_0

# HF tensor names (after "model.layers.{i}.") → llama.cpp names (after "blk.{i}.").
_BLOCK_NAMES = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
}
_TOP_NAMES = {"model.embed_tokens": "token_embd", "model.norm": "output_norm", "lm_head": "output"}


def gguf_name(module_path: str) -> str:
    if module_path in _TOP_NAMES:
        return _TOP_NAMES[module_path]
    _, _, rest = module_path.partition("model.layers.")
    layer, _, sub = rest.partition(".")
    return f"blk.{layer}.{_BLOCK_NAMES[sub]}"


def rope_row_order(rows: int, n_head: int) -> torch.Tensor:
    """Row index order that turns HF's half-split rotary layout into llama.cpp's interleaved one."""
    idx = torch.arange(rows)
    return idx.reshape(n_head, 2, rows // n_head // 2).swapaxes(1, 2).reshape(rows)


def _float_array(t: torch.Tensor):
    """(array, raw ggml type or None) for a float tensor, keeping its precision.

    1-D tensors (the RMSNorm weights) are always F32, as llama.cpp's own converter writes them:
    its CPU backend has no BF16/F16 second operand for the norm's multiply and aborts
    ("binary_op: unsupported types").
    """
    import gguf

    if t.ndim <= 1:
        return t.to(torch.float32).numpy(), None
    if t.dtype == torch.bfloat16:
        return t.contiguous().view(torch.uint8).numpy(), gguf.GGMLQuantizationType.BF16
    if t.dtype == torch.float16:
        return t.numpy(), None
    return t.to(torch.float32).numpy(), None


def _block_tensor(scheme: str, tensors: dict[str, torch.Tensor], module_path: str, config, raw: dict):
    """(uint8 rows, ggml type) for one packed linear, or a QuantError saying how to get one."""
    import gguf

    if scheme == "ternary":
        if "scales" in tensors:
            raise QuantError(f"{module_path}: ternary group size {raw['group_size'] or 'per-channel'} keeps "
                             "side scales, which GGUF's TQ types cannot hold; re-quantize with "
                             "`edgecpm quantize --scheme ternary --group-size 256` (or 0, per-channel)")
        ggml = {"tq2_0": gguf.GGMLQuantizationType.TQ2_0, "tq1_0": gguf.GGMLQuantizationType.TQ1_0}
        return tensors["packed"], ggml[config.layout]
    if not config.symmetric or config.group_size != 32:
        raise QuantError(f"{module_path}: int4 {'sym' if config.symmetric else 'asym'} g{config.group_size} "
                         "has no exact GGUF type (Q4_0 is symmetric, 32-blocks); re-quantize with "
                         "`edgecpm quantize --scheme int4 --group-size 32`")
    codes = unpack_int4(Int4Weight(tensors["qweight"], tensors["scales"], None, 32)).to(torch.int16) - 8
    return pack_q4_0(codes, tensors["scales"]), gguf.GGMLQuantizationType.Q4_0


def _table_tensor(kind: str, tensors: dict[str, torch.Tensor]):
    """Quantized embedding table / head → exact Q8_0 (int8) or Q4_0 (int4 sym g32) rows."""
    import gguf

    if kind == "int8":
        return pack_q8_0(Int8Weight(tensors["qweight"], tensors["scales"])), gguf.GGMLQuantizationType.Q8_0
    codes = unpack_int4(Int4Weight(tensors["qweight"], tensors["scales"], None, 32)).to(torch.int16) - 8
    return pack_q4_0(codes, tensors["scales"]), gguf.GGMLQuantizationType.Q4_0


def _add_tokenizer(writer, model_dir: Path, cfg) -> None:
    import gguf

    tokens: list[str] = []
    if (model_dir / "tokenizer.json").is_file():
        import json

        tj = json.loads((model_dir / "tokenizer.json").read_text())
        vocab = tj["model"]["vocab"]
        tokens = [None] * len(vocab)
        for piece, i in vocab.items():
            tokens[i] = piece
        special = {t["id"] for t in tj.get("added_tokens", []) if t.get("special")}
        types = [gguf.TokenType.CONTROL if i in special else gguf.TokenType.NORMAL for i in range(len(tokens))]
        merges = [m if isinstance(m, str) else " ".join(m) for m in tj["model"]["merges"]]
        writer.add_tokenizer_model("gpt2")
        # Closest llama.cpp pre-tokenizer: the GPT-2 regex. Ours also splits digits one by one,
        # so llama.cpp may tokenize runs of digits differently (documented in the README).
        writer.add_tokenizer_pre("default")
        writer.add_token_list(tokens)
        writer.add_token_types(types)
        writer.add_token_merges(merges)
    elif (model_dir / "tokenizer.model").is_file():
        vocab = gguf.vocab.SentencePieceVocab(model_dir)
        tokens, scores, types = [], [], []
        for text, score, toktype in vocab.all_tokens():
            tokens.append(text)
            scores.append(score)
            types.append(toktype)
        writer.add_tokenizer_model("llama")
        writer.add_tokenizer_pre("default")
        writer.add_token_list(tokens)
        writer.add_token_scores(scores)
        writer.add_token_types(types)
        writer.add_add_space_prefix(False)  # MiniCPM4's SentencePiece model adds no dummy prefix
    writer.add_bos_token_id(cfg.bos_token_id)
    _add_end_ids(writer, end_ids(cfg.eos_token_id, tokens))
    writer.add_add_bos_token(True)
    _add_chat_template(writer, model_dir)


CHAT_END = "<|im_end|>"  # MiniCPM4's ChatML end of turn


def end_ids(eos_ids: list[int], tokens: list[str]) -> dict[str, int]:
    """The config's eos ids, and the ChatML end of turn, in the three slots GGUF has for them.

    llama.cpp stops generating at any of eos, eot and eom ("end of generation"), but a GGUF holds
    one id per slot. The first config id is the eos; the end of turn is ``<|im_end|>`` when the
    vocabulary has it (chat stops there even if the config lists only ``</s>``), else the second
    config id; one more config id goes in eom."""
    eos, *rest = eos_ids
    chat_end = tokens.index(CHAT_END) if CHAT_END in tokens else None
    ids = {"eos": eos}
    if chat_end is not None and chat_end != eos:
        ids["eot"] = chat_end
    others = [i for i in rest if i not in ids.values()]
    for slot in ("eot", "eom"):
        if slot not in ids and others:
            ids[slot] = others.pop(0)
    return ids


def _add_end_ids(writer, ids: dict[str, int]) -> None:
    writer.add_eos_token_id(ids["eos"])
    if "eot" in ids:
        writer.add_eot_token_id(ids["eot"])
    if "eom" in ids:
        writer.add_eom_token_id(ids["eom"])


def _add_chat_template(writer, model_dir: Path) -> None:
    """The Jinja chat template of tokenizer_config.json, which llama.cpp's chat mode applies."""
    import json

    path = model_dir / "tokenizer_config.json"
    if not path.is_file():
        return
    try:
        template = json.loads(path.read_text(encoding="utf-8")).get("chat_template")
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return  # the tokenizer's own loader reports a broken file; the template is optional
    if isinstance(template, str) and template:
        writer.add_chat_template(template)


def export_gguf(model_dir: str | Path, out_path: str | Path, progress=None, overwrite: bool = False) -> Path:
    """Write ``out_path`` (atomically) from a float or quantized checkpoint directory. An existing
    ``out_path`` is replaced only with ``overwrite``, and only if it is a file."""
    import gguf

    example = f"{Path(model_dir).name}.gguf"
    check_output_file(out_path, overwrite, example)  # before reading a single tensor
    model_dir = Path(model_dir)
    cfg = load_config(model_dir)
    found = read_quant_config(model_dir)
    config, raw = found if found else (None, {})
    with atomic_path(out_path, overwrite, example) as tmp:
        writer = gguf.GGUFWriter(tmp, "minicpm")
        writer.add_name(model_dir.name)
        writer.add_context_length(cfg.max_position_embeddings)
        writer.add_embedding_length(cfg.hidden_size)
        writer.add_block_count(cfg.num_hidden_layers)
        writer.add_feed_forward_length(cfg.intermediate_size)
        writer.add_head_count(cfg.num_attention_heads)
        writer.add_head_count_kv(cfg.num_key_value_heads)
        writer.add_layer_norm_rms_eps(cfg.rms_norm_eps)
        writer.add_rope_freq_base(cfg.rope_theta)
        writer.add_rope_dimension_count(cfg.head_dim)
        writer.add_vocab_size(cfg.vocab_size)
        writer.add_embedding_scale(float(cfg.scale_emb))
        writer.add_residual_scale(cfg.scale_depth / math.sqrt(cfg.num_hidden_layers))
        writer.add_logit_scale(cfg.hidden_size / cfg.dim_model_base)
        if cfg.rope_scaling is not None:
            writer.add_rope_scaling_type(gguf.RopeScalingType.LONGROPE)
            writer.add_rope_scaling_orig_ctx_len(cfg.rope_scaling.original_max_position_embeddings)
            writer.add_tensor("rope_factors_long.weight", np.array(cfg.rope_scaling.long_factor, dtype=np.float32))
            writer.add_tensor("rope_factors_short.weight", np.array(cfg.rope_scaling.short_factor, dtype=np.float32))
        _add_tokenizer(writer, model_dir, cfg)

        grouped: dict[str, dict[str, torch.Tensor]] = {}
        for entry, t in iter_tensors(read_index(model_dir).values()):
            module_path, _, leaf = entry.name.rpartition(".")
            grouped.setdefault(module_path, {})[leaf] = t
        for module_path, tensors in grouped.items():
            rows_heads = {"self_attn.q_proj": cfg.num_attention_heads, "self_attn.k_proj": cfg.num_key_value_heads}
            heads = next((h for k, h in rows_heads.items() if module_path.endswith(k)), None)
            if config is not None and is_block_linear(module_path):
                data, ggml = _block_tensor(config.scheme, tensors, module_path, config, raw)
            elif "qweight" in tensors:  # an int8 / int4 embedding table or head
                data, ggml = _table_tensor(config.embeddings, tensors)
            else:
                data, ggml = tensors["weight"], None
            if heads is not None:
                data = data[rope_row_order(data.shape[0], heads)]
            if ggml is None:
                array, ggml = _float_array(data)
            else:
                array = data.contiguous().numpy()
            writer.add_tensor(gguf_name(module_path) + ".weight", array, raw_dtype=ggml)
            if progress is not None:
                progress(module_path)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
    return Path(out_path)
