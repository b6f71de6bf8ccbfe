"""Whole-model decode at context depth, MiniCPM4-8B shapes: InfLLM-v2 sparse vs dense, as .pte.

    .venv/bin/python -m benchmarks.infllm_model [--layers 2] [--depths 8192,32768,65536,131072]
    .venv/bin/python -m benchmarks.infllm_model --layers 1 --depths 256 --steps 2 --skip-stock  # quick check

Not a test: it prints a table of ms per decode step (``--steps`` steps after one warm-up). The
model has the 8B's attention and MLP shapes (hidden 4096, 32 query / 2 KV heads of 128, FFN
16384), random weights, `--layers` decoder layers, int4 g32 block linears (edgecpm's int4
kernel, the edge configuration) and a reduced vocabulary (the 8B's 73448 x 4096 fp32 table and
head would read 2.4 GB per token and hide the attention). Three
programs, lowered by the same code and run by the same ExecuTorch runtime with the same weights:

- sparse: `edgecpm::infllm_attention` with the 8B's sparse_config (dense below 8192 tokens);
- dense (ours): the same op with dense_len above the cache, so every row attends to all blocks
  through the same kernel (the fair dense baseline: same code, no block selection);
- dense (cached_attention): no sparse_config, so the dense model's own op,
  `edgecpm::cached_attention` (grouped attention over the visible slots; before it existed this
  row was ExecuTorch's lowering of the plain SDPA path). `--skip-stock` leaves it out.

"Decode at depth d" runs `forward([token], input_pos=[d])` steps on a cache whose slots are not
filled by a prefill (prefilling 128K tokens through an 8B-shape layer on 2 cores would take
hours): the kernels read exactly as many bytes as on a filled cache (every visible slot for dense,
the budget's blocks for sparse), so the time is the same; only the values differ. Before timing,
each program's logits at the first depth are compared with the eager model's on the same state.
"""

from __future__ import annotations

import argparse
import copy
import time

import torch

from benchmarks.common import add_format_option, emit, progress
from edgecpm.attention.sparse_config import SparseConfig
from edgecpm.bench import executorch_threads
from edgecpm.bench_records import BenchReport, BenchRow, cpu_name
from edgecpm.bench_timing import in_ms, median, time_calls
from edgecpm.checkpoint.random_init import random_tensors
from edgecpm.export.pte import lower_model
from edgecpm.model.minicpm import MiniCPMForCausalLM
from edgecpm.model.presets import preset
from edgecpm.quant.api import quantize_
from edgecpm.quant.config import Int4Config
from edgecpm.runtime.kernel_library import kernel_isa, load_library


def eight_b_shape(layers: int, vocab: int, max_seq_len: int, sparse: SparseConfig | None) -> MiniCPMForCausalLM:
    cfg = preset("minicpm4-8b")
    cfg.num_hidden_layers, cfg.vocab_size, cfg.eos_token_id = layers, vocab, [2]
    cfg.max_position_embeddings = max(cfg.max_position_embeddings, max_seq_len)
    cfg.sparse_config = copy.deepcopy(sparse)
    model = MiniCPMForCausalLM(cfg)
    model.load_state_dict(dict(random_tensors(cfg, torch.float32, seed=0)), strict=False)
    model.requires_grad_(False)
    quantize_(model, Int4Config(group_size=32), include=lambda name: ".layers." in f".{name}")
    model.setup_caches(max_seq_len)
    return model.eval()


def decode_ms(method, depth: int, steps: int) -> list[float]:
    """Milliseconds of each of ``steps`` decode steps at positions depth + 1.., after a warm-up
    step at ``depth``."""
    token, positions = torch.tensor([[5]]), iter(range(depth, depth + steps + 1))
    return in_ms(time_calls(lambda: method.execute([token, torch.tensor([next(positions)])]), steps))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--depths", default="8192,32768,65536,131072")
    ap.add_argument("--steps", type=int, default=5, help="timed decode steps per depth")
    ap.add_argument("--skip-stock", action="store_true")
    add_format_option(ap)
    args = ap.parse_args()
    from executorch.runtime import Runtime

    depths = [int(d) for d in args.depths.split(",")]
    max_seq_len = max(depths) + args.steps + 2
    load_library()
    variants = {"sparse (InfLLM-v2)": SparseConfig(),
                "dense (ours: same kernel, all blocks)": SparseConfig(dense_len=max_seq_len + 1)}
    if not args.skip_stock:
        variants["dense (cached_attention)"] = None
    times = {}
    for name, sparse in variants.items():
        model = eight_b_shape(args.layers, args.vocab, max_seq_len, sparse)
        t = time.perf_counter()
        # Decode only: at most 2 tokens per call (ExecuTorch plans activations for the largest call;
        # a 128K-token call would need tens of GB).
        program, _ = lower_model(model, max_seq_len, max_chunk=2)
        progress(f"  {name}: lowered in {time.perf_counter() - t:.0f} s ({len(program.buffer) / 2**20:.0f} MiB)")
        loaded = Runtime.get().load_program(program.buffer)  # the method borrows its memory
        method = loaded.load_method("forward")
        probe = [torch.tensor([[5]]), torch.tensor([depths[0]])]
        with torch.no_grad():
            want = model(*probe)
        err = (method.execute(probe)[0] - want).abs().max().item()
        progress(f"    logits vs eager at depth {depths[0]}: max |diff| {err:.2e}")
        times[name] = [decode_ms(method, d, args.steps) for d in depths]
        progress("    " + ", ".join(f"{d}: {median(ms):.1f} ms" for d, ms in zip(depths, times[name])))
        del model, program, loaded, method

    title = (f"decode step at depth, MiniCPM4-8B shapes, {args.layers} layers, int4 block linears, vocab "
             f"{args.vocab}, kernels {kernel_isa()}")
    threads, device = executorch_threads(), cpu_name()
    report = BenchReport(title=title)
    names = list(times)
    for i, d in enumerate(depths):
        for n in names:
            report.rows.append(BenchRow(f"minicpm4-8b shapes x{args.layers}", None, None, f"executorch + {n}",
                                        threads, f"tg @ {d}", times[n][i], unit="ms", device=device))
        report.notes.append(f"depth {d}: dense (ours) / sparse "
                            f"{median(times[names[1]][i]) / median(times[names[0]][i]):.2f}x (medians)")
    emit([report], args.format)


if __name__ == "__main__":
    main()
