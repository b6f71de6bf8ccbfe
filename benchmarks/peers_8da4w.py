"""ExecuTorch's own int4 path as a peer at a preset's shapes with random weights: export_llm's Llama with
8da4w + XNNPACK (``edgecpm.peers.et_8da4w_worker``, as ``edgecpm bench --compare et-8da4w`` uses it
on a checkpoint's own weights), exported and timed.

    .venv/bin/python -m benchmarks.peers_8da4w export --shape minicpm4-0.5b --max-context 128 -o P.pte
    .venv/bin/python -m edgecpm.peers.et_8da4w_worker time P.pte --prompt-ids 5,9,... -n 32

``export`` writes a throw-away checkpoint of finite random weights and the shapes' params, then runs
the worker's export (about 15-20 minutes at 0.5B on 2 cores; run it with cwd = the cache folder:
export_llm may write relative to the working directory). The worker's ``time`` runs the program
through the ExecuTorch Python runtime in its own process: one prefill and a greedy decode loop, one
JSON line.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from edgecpm.model.presets import preset
from edgecpm.peers import et_8da4w_worker as worker
from edgecpm.peers.et_8da4w import llama_params

SHAPES = ("minicpm4-0.5b", "tiny")  # presets; export_llm's Llama of the same shapes (``llama_params``)


def shape_params(shape: str) -> dict:
    return llama_params(preset(shape))


def random_checkpoint(shape: str, path: Path) -> None:
    """Finite random weights for export_llm's Llama. Without a checkpoint export_llm calls
    to_empty() on the whole model, which also wipes its RoPE tables and masks: the program then
    computes on uninitialized memory (NaN logits here), which is not a fair run."""
    import torch
    from executorch.examples.models.llama.llama_transformer import construct_transformer
    from executorch.examples.models.llama.model_args import ModelArgs

    with torch.device("meta"):
        model = construct_transformer(ModelArgs(**shape_params(shape)))
    g = torch.Generator().manual_seed(0)
    state = {name: torch.ones(p.shape) if p.ndim == 1 else torch.randn(p.shape, generator=g) * 0.02
             for name, p in model.named_parameters()}
    torch.save(state, path)


def export(shape: str, max_context: int, out: Path) -> None:
    out = out.resolve()
    params = out.with_suffix(".params.json")
    params.write_text(json.dumps(shape_params(shape)))
    # fp32 (export_llm's default dtype), deleted after export. Its name must not contain "8da4w"
    # or "int8": export_llm then takes the checkpoint for a pre-quantized one.
    checkpoint = out.parent / f"random-{shape}.pth"
    random_checkpoint(shape, checkpoint)
    try:
        worker.export(params, checkpoint, max_context, out)
    finally:
        checkpoint.unlink()


def main() -> None:
    ap = argparse.ArgumentParser(description="export_llm's 8da4w program of a preset's shapes, random weights "
                                             "(timed by edgecpm.peers.et_8da4w_worker time)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export")
    e.add_argument("--shape", choices=SHAPES, required=True)
    e.add_argument("--max-context", type=int, required=True)
    e.add_argument("-o", "--out", type=Path, required=True)
    args = ap.parse_args()
    export(args.shape, args.max_context, args.out)


if __name__ == "__main__":
    main()
