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

from edgecpm.runtime.footprint import describe_scheme, weight_bytes


@dataclass
class QualityRow:
    name: str
    scheme: str
    bpw: float       # bits per weight of the decoder-block linears
    size_mib: float  # all weights as stored
    ppl: float
    kld: float = 0.0
    top1: float = 1.0


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
