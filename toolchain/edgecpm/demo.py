"""``edgecpm demo`` / ``make demo``: the main job on the embedded tiny models.

load → generate (greedy, streamed) → quantize (the ternary QAT twin to TQ2_0, the fp model to
int4) → held-out quality of each → export each to an ExecuTorch program (XNNPACK + edgecpm's C++
kernels) → a llama-bench-style speed table: eager PyTorch, the .pte through the ExecuTorch Python
runtime, and the native C++ runner, side by side in one run.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import torch

from edgecpm.bench import generate_samples, runner_samples
from edgecpm.checkpoint.loader import load_model
from edgecpm.checkpoint.locate import resolve_model
from edgecpm.checkpoint.quantized import quantize_checkpoint
from edgecpm.eval.compare import compare_quality, render_quality
from edgecpm.export.pte import PROGRAM, export_pte
from edgecpm.export.targets import load_target
from edgecpm.generate import TextStream, generate
from edgecpm.quant.config import Int4Config, TernaryConfig
from edgecpm.runtime.footprint import describe_scheme, weight_bytes
from edgecpm.runtime.kernel_library import kernel_isa
from edgecpm.runtime.pte import PteModel
from edgecpm.runtime.sampling import SamplingConfig
from edgecpm.tiny.corpus import held_out_text
from edgecpm.tokenizer.tokenizer import load_tokenizer

PROMPTS = [
    "Return a new list containing",
    "The following exceptions are raised when",
    "This module provides",
]


def _speed_rows(model, prompt: list[int], n_gen: int):
    return generate_samples(model, prompt, n_gen, reps=3)


def _runner_rows(bundle: Path, prompt: list[int], n_gen: int):
    runner = load_target("host").kernel_dir / "edgecpm-runner"
    if not runner.is_file():
        print(f"(no native-runner rows: {runner} is not built; run `make kernels`)")
        return []
    return runner_samples(runner, bundle, prompt, n_gen, reps=3)


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
            # fp32 like the exported program (tiny-ternary is stored in bf16, where greedy near-ties
            # become exact ties), so eager and .pte rows run the same numbers.
            models[name] = load_model(out, dtype=torch.float32, max_seq_len=512)
        print()
        _stream(models["tiny-ternary TQ2_0"], tok, PROMPTS[1], n_new)

        ids = torch.tensor(tok.encode(held_out_text()), dtype=torch.long)
        print(f"### eval (held-out split, {ids.numel() - 1} tokens, ctx 256; against tiny fp32)\n")
        print(render_quality(compare_quality(models, ids, 256)) + "\n")

        print("### export (ExecuTorch .pte: XNNPACK for float ops, edgecpm C++ kernels for packed weights)\n")
        sources = {"tiny fp32": model_dir, **{n: Path(tmp) / n.replace(" ", "-") for n in quantized}}
        bundles = {}
        for name, src in sources.items():
            bundles[name] = export_pte(src, Path(tmp) / f"{name.replace(' ', '-')}.pte", max_seq_len=128)
            print(f"{name}: {(bundles[name] / PROGRAM).stat().st_size / 2**20:.2f} MiB program")
        ptes = {name: PteModel(b) for name, b in bundles.items()}
        print(f"\nkernels: {kernel_isa()}\n")
        _stream(ptes["tiny-ternary TQ2_0"], tok, PROMPTS[1], n_new)

        print("### speed (one run, same machine; eager quantized linears are the Python reference ops, "
              "which dequantize per call)\n")
        print("| model | size | params | backend | threads | test | t/s |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        threads = torch.get_num_threads()
        prompt = torch.randint(3, cfg.vocab_size, (64,)).tolist()
        for name, m in models.items():
            _, size_mib = weight_bytes(m)
            runs = [("torch-eager", _speed_rows(m, prompt, 32)),
                    (f"executorch (python) + {kernel_isa()}", _speed_rows(ptes[name], prompt, 32)),
                    (f"edgecpm-runner (C++) + {kernel_isa()}", _runner_rows(bundles[name], prompt, 32))]
            for backend, rows in runs:
                for test, samples in rows:
                    sd = statistics.stdev(samples) if len(samples) > 1 else 0.0
                    print(f"| {name} ({describe_scheme(m)}) | {size_mib:.1f} MiB | {cfg.num_parameters / 1e6:.2f} M | "
                          f"{backend} | {threads} | {test} | {statistics.mean(samples):.1f} ± {sd:.1f} |")
