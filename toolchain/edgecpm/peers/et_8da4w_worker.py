"""ExecuTorch's own int4 path as a peer, in a process of its own: ``export`` (export_llm's Llama with
8da4w + XNNPACK) and ``time`` (prefill, then greedy decode, through the ExecuTorch Python runtime);
each prints one JSON line.

    python -m edgecpm.peers.et_8da4w_worker export PARAMS.json CHECKPOINT.pth --max-context 128 -o P.pte
    python -m edgecpm.peers.et_8da4w_worker time P.pte --prompt-ids 5,9,... -n 32

``export`` calls ``export_llama(LlmConfig)`` directly (what ``python -m
executorch.extension.llm.export.export_llm base.params=... quantization.qmode=8da4w ...`` runs after
Hydra parses its overrides): 8da4w g32 linears (the output head included: export_llm's Llama has an
untied head), an 8-bit per-row embedding table (``embedding_quantize '8,0'``, the closest to our int8
table), XNNPACK, KV cache, custom SDPA. Run it with cwd = a scratch folder: export_llm may write
relative to the working directory.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from edgecpm.bench_timing import time_calls


def export(params: Path, checkpoint: Path, max_context: int, out: Path) -> None:
    from executorch.examples.models.llama.export_llama_lib import export_llama
    from executorch.extension.llm.export.config.llm_config import LlmConfig

    out = out.resolve()
    cfg = LlmConfig()
    # The checkpoint's name must not contain "8da4w" or "int8": export_llm then takes it for a
    # pre-quantized one.
    cfg.base.params, cfg.base.checkpoint = str(params), str(checkpoint)
    cfg.model.use_kv_cache = True
    cfg.model.use_sdpa_with_kv_cache = True
    cfg.export.max_seq_length = max_context  # the longest prefill chunk
    cfg.export.max_context_length = max_context
    cfg.export.output_dir = str(out.parent)
    cfg.export.output_name = str(out)  # a name ending in .pte is used verbatim
    cfg.quantization.qmode = "8da4w"
    cfg.quantization.group_size = 32
    cfg.quantization.embedding_quantize = "8,0"
    cfg.backend.xnnpack.enabled = True
    cfg.backend.xnnpack.extended_ops = True
    t = time.perf_counter()
    export_llama(cfg)
    print(json.dumps({"exported": str(out), "seconds": round(time.perf_counter() - t, 1)}))


def time_program(pte: Path, prompt: list[int], n: int) -> dict:
    from executorch.extension.llm.custom_ops import custom_ops  # noqa: F401  llama::sdpa_with_kv_cache, update_cache
    import executorch.kernels.quantized  # noqa: F401  quantized_decomposed::embedding_byte
    import torch
    from executorch.runtime import Runtime

    t = time.perf_counter()
    program = Runtime.get().load_program(str(pte))

    def step(method, tokens: list[int], pos: int) -> torch.Tensor:
        # export_llm's KV-cache program: forward(tokens [1, T], input_pos [1]) -> last logits [1, vocab].
        return method.execute([torch.tensor([tokens], dtype=torch.long), torch.tensor([pos], dtype=torch.long)])[0]

    method = program.load_method("forward")
    load_s = time.perf_counter() - t
    # Warm-up at the same positions: the timed run rewrites every cache slot it then attends to.
    step(method, prompt[:1], len(prompt))
    out: dict[str, torch.Tensor] = {}

    def prefill():
        out["logits"] = step(method, prompt, 0)

    (prefill_s,) = time_calls(prefill, reps=1, warmup=1)
    finite = bool(torch.isfinite(out["logits"]).all())
    tokens = []

    def decode_step():
        tokens.append(int(out["logits"].reshape(-1).argmax()))
        out["logits"] = step(method, tokens[-1:], len(prompt) + len(tokens) - 1)

    decode_s = sum(time_calls(decode_step, reps=n, warmup=0))
    return {"runtime": "executorch (python) 8da4w + xnnpack", "load_ms": round(load_s * 1e3, 1),
            "prefill_tok_s": len(prompt) / prefill_s, "decode_tok_s": n / decode_s,
            "logits_finite": finite, "tokens": tokens}


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export")
    e.add_argument("params", type=Path)
    e.add_argument("checkpoint", type=Path)
    e.add_argument("--max-context", type=int, required=True)
    e.add_argument("-o", "--out", type=Path, required=True)
    t = sub.add_parser("time")
    t.add_argument("pte", type=Path)
    t.add_argument("--prompt-ids", required=True)
    t.add_argument("-n", type=int, default=32)
    args = ap.parse_args()
    if args.cmd == "export":
        export(args.params, args.checkpoint, args.max_context, args.out)
    else:
        print(json.dumps(time_program(args.pte, [int(x) for x in args.prompt_ids.split(",")], args.n)))


if __name__ == "__main__":
    main()
