"""ExecuTorch's own int4 path as a peer: export_llm's Llama with 8da4w + XNNPACK, exported and timed.

    .venv/bin/python -m benchmarks.peers_8da4w export --shape minicpm4-0.5b --max-context 128 -o P.pte
    .venv/bin/python -m benchmarks.peers_8da4w time P.pte --prompt-ids 5,9,... -n 32

`export` calls export_llm's `export_llama(LlmConfig)` directly (what `python -m
executorch.extension.llm.export.export_llm base.params=... quantization.qmode=8da4w ...` runs
after Hydra parses its overrides): a Llama of the preset's shapes with random weights (a
throw-away checkpoint), 8da4w g32 linears (output head included: export_llm's Llama has an untied head),
an 8-bit per-row embedding table (`embedding_quantize '8,0'`: the closest to our int8 table; '4,32'
would make its file smaller than ours for a reason unrelated to the kernels), XNNPACK, KV cache,
custom SDPA. About 15-20 minutes at 0.5B on 2 cores. Run it with cwd = the cache folder: export_llm
may write relative to the working directory (``benchmarks.peers_artifacts`` does, with the
repository on PYTHONPATH).

`time` loads the program through the ExecuTorch Python runtime in its own process (nothing shared
with the other runs), warms up, then times one prefill of the whole prompt and a greedy decode
loop, and prints one JSON line like the other timing scripts.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from edgecpm.bench_timing import time_calls

# export_llm's Llama ModelArgs for each preset (MiniCPM's muP scalings and LongRoPE do not
# change the cost of a step; the shapes do).
SHAPES = {
    "minicpm4-0.5b": {"dim": 1024, "n_layers": 24, "n_heads": 16, "n_kv_heads": 2, "hidden_dim": 4096,
                      "vocab_size": 73448, "norm_eps": 1e-5, "rope_theta": 10000.0},
    "tiny": {"dim": 256, "n_layers": 4, "n_heads": 4, "n_kv_heads": 2, "hidden_dim": 1024,
             "vocab_size": 8192, "norm_eps": 1e-5, "rope_theta": 10000.0},
}


def random_checkpoint(shape: str, path: Path) -> None:
    """Finite random weights for export_llm's Llama. Without a checkpoint export_llm calls
    to_empty() on the whole model, which also wipes its RoPE tables and masks: the program then
    computes on uninitialized memory (NaN logits here), which is not a fair run."""
    import torch
    from executorch.examples.models.llama.llama_transformer import construct_transformer
    from executorch.examples.models.llama.model_args import ModelArgs

    with torch.device("meta"):
        model = construct_transformer(ModelArgs(**SHAPES[shape]))
    g = torch.Generator().manual_seed(0)
    state = {name: torch.ones(p.shape) if p.ndim == 1 else torch.randn(p.shape, generator=g) * 0.02
             for name, p in model.named_parameters()}
    torch.save(state, path)


def export(shape: str, max_context: int, out: Path) -> None:
    from executorch.examples.models.llama.export_llama_lib import export_llama
    from executorch.extension.llm.export.config.llm_config import LlmConfig

    out = out.resolve()
    params = out.with_suffix(".params.json")
    params.write_text(json.dumps(SHAPES[shape]))
    # fp32 (export_llm's default dtype), deleted after export. Its name must not contain "8da4w"
    # or "int8": export_llm then takes the checkpoint for a pre-quantized one.
    checkpoint = out.parent / f"random-{shape}.pth"
    random_checkpoint(shape, checkpoint)
    cfg = LlmConfig()
    cfg.base.params = str(params)
    cfg.base.checkpoint = str(checkpoint)
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
    try:
        export_llama(cfg)
    finally:
        checkpoint.unlink()
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
    e.add_argument("--shape", choices=sorted(SHAPES), required=True)
    e.add_argument("--max-context", type=int, required=True)
    e.add_argument("-o", "--out", type=Path, required=True)
    t = sub.add_parser("time")
    t.add_argument("pte", type=Path)
    t.add_argument("--prompt-ids", required=True)
    t.add_argument("-n", type=int, default=32)
    args = ap.parse_args()
    if args.cmd == "export":
        export(args.shape, args.max_context, args.out)
    else:
        prompt = [int(x) for x in args.prompt_ids.split(",")]
        print(json.dumps(time_program(args.pte, prompt, args.n)))


if __name__ == "__main__":
    main()
