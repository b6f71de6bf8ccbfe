"""GPTQ over a whole MiniCPM4 model, layer by layer, from calibration text.

For each decoder layer in turn: run the calibration activations through it once with hooks that
accumulate each linear's input Hessian (dropping the first ``skip_first`` positions of every
sequence, MiniCPM4's P-GPTQ), quantize its seven linears with GPTQ, put the dequantized weights
back, and run the layer again so the next layer calibrates on what the quantized model will
actually feed it. Holds the float model in memory (unlike the streaming RTN path).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from edgecpm.checkpoint.loader import load_model
from edgecpm.errors import QuantError
from edgecpm.quant.config import Int4Config
from edgecpm.quant.gptq import HessianAccumulator, gptq_quantize
from edgecpm.quant.int4 import Int4Weight, dequantize_int4
from edgecpm.tokenizer.tokenizer import load_tokenizer


def calibration_batch(model_dir: Path, text: str, config: Int4Config) -> torch.Tensor:
    tok = load_tokenizer(model_dir)
    ids = torch.tensor(tok.encode(text), dtype=torch.long)
    n, length = config.calib_sequences, config.calib_seq_len
    if ids.numel() < n * length:
        raise QuantError(f"calibration text has {ids.numel()} tokens; GPTQ with {n} sequences of "
                         f"{length} needs {n * length}: give a longer --calib file or fewer --calib-seqs")
    # Evenly spaced windows cover the whole text rather than only its beginning.
    stride = (ids.numel() - length) // max(n - 1, 1)
    return torch.stack([ids[i * stride: i * stride + length] for i in range(n)])


@torch.no_grad()
def gptq_model(model_dir: str | Path, config: Int4Config, calib_text: str, progress=None) -> dict[str, Int4Weight]:
    """GPTQ weights for every decoder-block linear, keyed by module path."""
    model_dir = Path(model_dir)
    batch = calibration_batch(model_dir, calib_text, config)
    model = load_model(model_dir, dtype=torch.float32, max_seq_len=config.calib_seq_len)
    length = batch.shape[1]
    cos, sin = model.rope.first(length)
    h = model.model.embed_tokens(batch) * model.config.scale_emb
    out: dict[str, Int4Weight] = {}
    for i, layer in enumerate(model.model.layers):
        linears = {n: m for n, m in layer.named_modules() if isinstance(m, nn.Linear)}
        accs = {n: HessianAccumulator(m.in_features, skip_first=config.skip_first) for n, m in linears.items()}
        hooks = [m.register_forward_pre_hook(lambda _m, args, acc=accs[n]: acc.add(args[0]))
                 for n, m in linears.items()]
        layer(h, cos, sin)
        for hook in hooks:
            hook.remove()
        for n, m in linears.items():
            q = gptq_quantize(m.weight, accs[n].hessian(), config.group_size, config.symmetric, config.damp)
            out[f"model.layers.{i}.{n}"] = q
            m.weight.copy_(dequantize_int4(q, m.weight.dtype))
        h = layer(h, cos, sin)
        if progress is not None:
            progress(i)
    return out
