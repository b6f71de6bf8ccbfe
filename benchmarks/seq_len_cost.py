"""Does decode cost follow the position or the cache size? The same checkpoint exported with
several --max-seq-len values, decoded by the native runner at the same position, interleaved.

    .venv/bin/python -m benchmarks.seq_len_cost CHECKPOINT [--lens 512,4096] [--prompt 64] [--rounds 5]

Each round runs every program once (A, B, A, B, ...): a `--prompt`-token prompt then 32 greedy
tokens, so decode happens at positions prompt .. prompt+31; the runner times itself (its JSON
stats line). Prints a row per max_seq_len, its samples one per round, and each one's cost
relative to the first (ratio of medians). Not a test: timings on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.common import ROOT, RUNNER, add_format_option, emit
from edgecpm.bench import runner_stats
from edgecpm.bench_records import BenchReport, BenchRow, cpu_name
from edgecpm.checkpoint.contents import load_config
from edgecpm.checkpoint.locate import resolve_model


def export(checkpoint: Path, max_seq_len: int, out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "edgecpm.cli.app", "export", str(checkpoint), "-o", str(out),
                    "--max-seq-len", str(max_seq_len), "--force"], check=True, stdout=subprocess.DEVNULL)
    return out


def decode_tok_s(bundle: Path, prompt: list[int], threads: int) -> float:
    return runner_stats(RUNNER, bundle, prompt, 32, threads=threads)["decode_tok_s"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("--lens", default="512,4096")
    ap.add_argument("--prompt", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "seq-len-cost")
    add_format_option(ap)
    args = ap.parse_args()
    if not RUNNER.is_file():
        sys.exit(f"{RUNNER} is not built: run `make kernels`")
    lens = [int(x) for x in args.lens.split(",")]
    bundles = {n: export(args.checkpoint, n, args.work / str(n)) for n in lens}
    # Spread-out ids below the vocabulary (and below 60000, so a 0.5B run repeats the recorded one).
    vocab = load_config(resolve_model(str(args.checkpoint))).vocab_size
    prompt = [3 + (i * 7919) % min(60000, vocab - 3) for i in range(args.prompt)]
    times: dict[int, list[float]] = {n: [] for n in lens}
    load = os.getloadavg()[0]
    for _ in range(args.rounds):
        for n in lens:
            times[n].append(decode_tok_s(bundles[n], prompt, args.threads))
    report = BenchReport(title=f"decode at positions {args.prompt}..{args.prompt + 31}, {args.threads} threads, "
                               f"{args.rounds} rounds interleaved, load {load:.2f} -> {os.getloadavg()[0]:.2f}")
    for n in lens:
        report.rows.append(BenchRow(f"{args.checkpoint.name} max_seq_len {n}", None, None, "edgecpm-runner (C++)",
                                    args.threads, "tg32", times[n], device=cpu_name()))
    base = report.rows[0].median
    for row in report.rows:
        row.extra["cost vs first"] = f"{base / row.median:.3f}x"
    emit([report], args.format)


if __name__ == "__main__":
    main()
