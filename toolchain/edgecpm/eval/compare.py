"""Quality of quantized models against their full-precision reference, on the same windows.

Per model: perplexity, ΔPPL against the reference, the mean KL divergence KL(p_ref ‖ p_model)
over every scored position, and top-1 agreement (how often both pick the same next token).
llama.cpp's ``perplexity --kl-divergence`` reports the same three; here every model sees the
same token windows, so the numbers compare like with like.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from edgecpm.model.minicpm import is_block_linear


@dataclass
class QualityRow:
    name: str
    scheme: str
    bpw: float       # bits per weight of the decoder-block linears
    size_mib: float  # all weights as stored
    ppl: float
    kld: float = 0.0
    top1: float = 1.0


# Derived buffers (rotary tables, position indices), not weights: not counted in a model's size.
_TABLES = {"rope_cos", "rope_sin", "rope_cos_long", "rope_sin_long", "positions"}


def describe_scheme(model) -> str:
    if hasattr(model, "manifest"):  # an exported ExecuTorch program
        return f"{model.manifest['scheme']} .pte ({model.manifest['backend']})"
    qc = getattr(model, "quant_config", None)
    if qc is None:
        return str(model.model.norm.weight.dtype).removeprefix("torch.")
    emb = "" if qc.embeddings == "fp" else f" + {qc.embeddings} emb"
    if qc.scheme == "ternary":
        return f"ternary {qc.layout.upper()} g{qc.group_size or 'ch'}{emb}"
    return f"int4 {'sym' if qc.symmetric else 'asym'} g{qc.group_size} {qc.method}{emb}"


def weight_bytes(model) -> tuple[float, float]:
    """(bits per weight of block linears, total MiB of stored weights)."""
    if hasattr(model, "manifest"):  # an exported program: its file is what is stored
        from edgecpm.export.pte import PROGRAM

        return model.manifest.get("bits_per_weight", 32.0), (model.dir / PROGRAM).stat().st_size / 2**20
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


@torch.no_grad()
def compare_quality(models: dict[str, torch.nn.Module], ids: torch.Tensor, ctx: int, progress=None) -> list[QualityRow]:
    """The first model is the reference."""
    names = list(models)
    nll = {n: 0.0 for n in names}
    kld = {n: 0.0 for n in names}
    agree = {n: 0 for n in names}
    count = 0
    for s in range(0, ids.numel() - 1, ctx):
        x = ids[s:s + ctx + 1]
        if x.numel() < 2:
            break
        inp, target = x[:-1].unsqueeze(0), x[1:]
        ref_logp = None
        for n in names:
            logp = F.log_softmax(models[n](inp)[0].float(), dim=-1)
            nll[n] -= logp.gather(-1, target.unsqueeze(-1)).sum().item()
            if ref_logp is None:
                ref_logp = logp
            else:
                kld[n] += (ref_logp.exp() * (ref_logp - logp)).sum().item()
                agree[n] += (ref_logp.argmax(-1) == logp.argmax(-1)).sum().item()
        count += target.numel()
        if progress is not None:
            progress(target.numel())
    if count == 0:
        raise ValueError("the evaluation text is shorter than two tokens")
    rows = []
    for i, n in enumerate(names):
        bpw, size = weight_bytes(models[n])
        rows.append(QualityRow(n, describe_scheme(models[n]), bpw, size, math.exp(nll[n] / count),
                               kld[n] / count if i else 0.0, agree[n] / count if i else 1.0))
    return rows


def render_quality(rows: list[QualityRow]) -> str:
    ref = rows[0].ppl
    lines = ["| model | scheme | bpw | size MiB | PPL | ΔPPL | KLD | top-1 % |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for i, r in enumerate(rows):
        vs_ref = (f"{r.ppl - ref:+.2f} | {r.kld:.4f} | {100 * r.top1:.1f}" if i else "ref | ref | ref")
        lines.append(f"| {r.name} | {r.scheme} | {r.bpw:.3g} | {r.size_mib:.2f} | {r.ppl:.2f} | {vs_ref} |")
    return "\n".join(lines)
