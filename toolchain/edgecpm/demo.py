"""``edgecpm demo`` / ``make demo``: the main job on the embedded tiny models.

Today: load → generate (greedy, streamed) → quantize (the ternary QAT twin to TQ2_0, the fp model
to int4) → held-out quality of each → a llama-bench-style speed table of the eager PyTorch path.
Export and the native runner join with their issue; the demo prints only stages that really ran.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import torch

from edgecpm.checkpoint.loader import load_model
from edgecpm.checkpoint.locate import resolve_model
from edgecpm.checkpoint.quantized import quantize_checkpoint
from edgecpm.eval.compare import compare_quality, describe_scheme, render_quality, weight_bytes
from edgecpm.generate import SamplingConfig, TextStream, generate
from edgecpm.quant.config import Int4Config, TernaryConfig
from edgecpm.tiny.corpus import held_out_text
from edgecpm.tokenizer.tokenizer import load_tokenizer

PROMPTS = [
    "Return a new list containing",
    "The following exceptions are raised when",
    "This module provides",
]


def _speed_rows(model, n_prompt: int, n_gen: int, reps: int = 3):
    prompt = torch.randint(3, model.config.vocab_size, (n_prompt,)).tolist()
    generate(model, prompt, 2)  # warm-up
    pp, tg = [], []
    for _ in range(reps):
        res = generate(model, prompt, n_gen)
        pp.append(res.prefill_tok_s)
        tg.append(res.decode_tok_s)
    return [(f"pp{n_prompt}", pp), (f"tg{n_gen}", tg)]


def _stream(model, tok, prompt: str, n_new: int) -> None:
    stream = TextStream(tok)
    print(f"> {prompt}", end="", flush=True)
    generate(model, tok.encode(prompt, bos=True), n_new, SamplingConfig(),
             eos_ids=tok.eos_ids, on_token=lambda t: print(stream.push(t), end="", flush=True))
    print("\n")


def run_demo(n_new: int = 48) -> None:
    model_dir = resolve_model("tiny")
    model = load_model(model_dir, dtype=torch.float32, max_seq_len=512)
    cfg = model.config
    tok = load_tokenizer(model_dir, cfg.bos_token_id, cfg.eos_token_id)
    print(f"## edgecpm demo — embedded model {model_dir.name}: {cfg.num_parameters / 1e6:.2f}M params, "
          f"{cfg.num_hidden_layers} layers, {cfg.num_attention_heads}/{cfg.num_key_value_heads} heads, "
          f"vocab {cfg.vocab_size}\n")

    print("### generate (greedy, eager PyTorch, KV cache)\n")
    for prompt in PROMPTS:
        _stream(model, tok, prompt, n_new)

    with tempfile.TemporaryDirectory(prefix="edgecpm-demo-") as tmp:
        print("### quantize\n")
        quantized = {
            "tiny int4 g32": (model_dir, Int4Config(group_size=32)),
            "tiny-ternary TQ2_0": (resolve_model("tiny-ternary"), TernaryConfig(group_size=256)),
        }
        models = {"tiny fp32": model}
        for name, (src, qcfg) in quantized.items():
            out = Path(tmp) / name.replace(" ", "-")
            summary = quantize_checkpoint(src, out, qcfg)
            params, before, after = summary.totals()
            print(f"{name}: {before / 2**20:.2f} MiB → {after / 2**20:.2f} MiB "
                  f"({8 * after / params:.2f} bits/weight overall, embeddings included)")
            models[name] = load_model(out, max_seq_len=512)
        print()
        _stream(models["tiny-ternary TQ2_0"], tok, PROMPTS[1], n_new)

        ids = torch.tensor(tok.encode(held_out_text()), dtype=torch.long)
        print(f"### eval (held-out split, {ids.numel() - 1} tokens, ctx 256; against tiny fp32)\n")
        print(render_quality(compare_quality(models, ids, 256)) + "\n")

        print("### speed (eager PyTorch; quantized linears run the Python reference ops, which "
              "dequantize per call — the C++ kernels and the exported .pte come with issue 4)\n")
        print("| model | size | params | backend | threads | test | t/s |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for name, m in models.items():
            _, size_mib = weight_bytes(m)
            for test, samples in _speed_rows(m, 64, 32):
                sd = statistics.stdev(samples) if len(samples) > 1 else 0.0
                print(f"| {name} ({describe_scheme(m)}) | {size_mib:.1f} MiB | {cfg.num_parameters / 1e6:.2f} M | "
                      f"torch-eager | {torch.get_num_threads()} | {test} | {statistics.mean(samples):.1f} ± {sd:.1f} |")
