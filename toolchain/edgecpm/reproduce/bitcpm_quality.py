"""Quality of the embedded tiny model under each quantization the BitCPM / int4 claims are about,
scored on the corpus's held-out split.

Schemes: the fp model; ternary after training (PTQ: the fp model's weights rounded to ternary);
ternary QAT (``tiny-ternary``, trained with the ternary quantizer in the loop, then packed);
int4 g128 RTN; int4 g128 GPTQ; and P-GPTQ (GPTQ with the first 4 positions of each calibration
sequence left out of the Hessian, as MiniCPM4's releases do).

Each is scored by next-token top-1 accuracy on the held-out text (the model's own argmax against
the actual next token) and perplexity; "kept" is a scheme's accuracy over the fp model's, the
analogue of the paper's "share of the average benchmark score kept".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch

from edgecpm.reproduce.claims import ratio


@dataclass
class Score:
    ppl: float
    accuracy: float   # next-token top-1 against the text
    tokens: int
    bits_per_weight: float


def kept(score: Score, reference: Score) -> float:
    """The share of the reference's accuracy a scheme keeps."""
    return ratio(score.accuracy, reference.accuracy)


@torch.no_grad()
def next_token_scores(model, ids: torch.Tensor, ctx: int) -> tuple[float, float, int]:
    """(perplexity, top-1 accuracy, tokens scored) over non-overlapping windows of ``ctx``
    tokens, each scored from scratch (the windows ``edgecpm eval`` uses)."""
    nll, correct, count = 0.0, 0, 0
    for s in range(0, ids.numel() - 1, ctx):
        x = ids[s:s + ctx + 1]
        if x.numel() < 2:
            break
        logits = model(x[:-1].unsqueeze(0))[0].float()
        target = x[1:]
        nll += torch.nn.functional.cross_entropy(logits, target, reduction="sum").item()
        correct += (logits.argmax(-1) == target).sum().item()
        count += target.numel()
    if count == 0:
        raise ValueError("the evaluation text is shorter than two tokens")
    return math.exp(nll / count), correct / count, count


def scheme_configs() -> dict[str, tuple[str, object]]:
    """name -> (the embedded model it starts from, its quantization config; None: used as is)."""
    from edgecpm.quant.config import Int4Config, TernaryConfig

    return {
        "fp": ("tiny", None),
        "ternary PTQ": ("tiny", TernaryConfig(group_size=256)),
        "ternary QAT": ("tiny-ternary", TernaryConfig(group_size=256)),
        "int4 RTN g128": ("tiny", Int4Config(group_size=128)),
        "int4 GPTQ g128": ("tiny", Int4Config(group_size=128, method="gptq", skip_first=0)),
        "int4 P-GPTQ g128": ("tiny", Int4Config(group_size=128, method="gptq", skip_first=4)),
    }


def quantized(source: Path, config, out: Path, calib_text: str) -> Path:
    """``source`` quantized with ``config`` into ``out`` (GPTQ calibrated on ``calib_text``)."""
    from edgecpm.checkpoint.gptq_calibration import gptq_model
    from edgecpm.checkpoint.quantized import quantize_checkpoint

    prepared = gptq_model(source, config, calib_text) if getattr(config, "method", "") == "gptq" else None
    quantize_checkpoint(source, out, config, prepared=prepared, overwrite=True)
    return out


def score_schemes(work: Path, eval_tokens: int, ctx: int = 256, threads: int = 1) -> dict[str, Score]:
    """Every scheme of ``scheme_configs`` quantized under ``work`` and scored on the first
    ``eval_tokens`` tokens of the held-out split."""
    from edgecpm.bench import thread_count
    from edgecpm.checkpoint.contents import load_config
    from edgecpm.checkpoint.loader import load_model
    from edgecpm.checkpoint.locate import resolve_model
    from edgecpm.runtime.footprint import weight_bytes
    from edgecpm.tiny.corpus import split_text, stdlib_documents
    from edgecpm.tokenizer.tokenizer import load_tokenizer

    tiny = resolve_model("tiny")
    cfg = load_config(tiny)
    tok = load_tokenizer(tiny, cfg.bos_token_id, cfg.eos_token_id)
    train_text, held_text = split_text(stdlib_documents())
    ids = torch.tensor(tok.encode(held_text)[:eval_tokens])
    scores = {}
    with thread_count(threads):
        for name, (source, config) in scheme_configs().items():
            path = resolve_model(source)
            if config is not None:
                path = quantized(path, config, work / name.replace(" ", "-"), train_text)
            model = load_model(path, dtype=torch.float32, max_seq_len=ctx)
            scores[name] = Score(*next_token_scores(model, ids, ctx), weight_bytes(model)[0])
    return scores
