"""``edgecpm demo`` / ``make demo``: the main job on the embedded tiny model.

Today: load → generate (greedy, streamed) → held-out perplexity → a llama-bench-style speed table
of the eager PyTorch path. Quantize, export and the native runner join as their issues land; the
demo prints only stages that really ran.
"""

from __future__ import annotations

import statistics
import time

import torch

from edgecpm.checkpoint.loader import load_model
from edgecpm.checkpoint.locate import resolve_model
from edgecpm.eval.perplexity import perplexity
from edgecpm.generate import SamplingConfig, TextStream, generate
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
        stream = TextStream(tok)
        print(f"> {prompt}", end="", flush=True)
        generate(model, tok.encode(prompt, bos=True), n_new, SamplingConfig(),
                 eos_ids=tok.eos_ids, on_token=lambda t: print(stream.push(t), end="", flush=True))
        print("\n")

    ids = torch.tensor(tok.encode(held_out_text()), dtype=torch.long)
    t0 = time.perf_counter()
    ppl = perplexity(model, ids, ctx=256)
    print(f"### eval\n\nheld-out perplexity ({ppl.tokens} tokens, ctx 256): {ppl.ppl:.2f} "
          f"({time.perf_counter() - t0:.1f}s)\n")

    print("### speed (eager PyTorch fp32; the exported .pte and native runner come with issue 4)\n")
    size_mib = sum(p.numel() * p.element_size() for p in model.parameters()) / 2**20
    print("| model | size | params | backend | threads | test | t/s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for test, samples in _speed_rows(model, 64, 32):
        sd = statistics.stdev(samples) if len(samples) > 1 else 0.0
        print(f"| tiny fp32 | {size_mib:.1f} MiB | {cfg.num_parameters / 1e6:.2f} M | torch-eager | "
              f"{torch.get_num_threads()} | {test} | {statistics.mean(samples):.1f} ± {sd:.1f} |")
