"""Does decode cost follow the position or the cache size? The same checkpoint exported with
several --max-seq-len values, decoded by the native runner at the same position, interleaved.

    .venv/bin/python benchmarks/seq_len_cost.py CHECKPOINT [--lens 512,4096] [--prompt 64] [--rounds 5]

Each round runs every program once (A, B, A, B, ...): a `--prompt`-token prompt then 32 greedy
tokens, so decode happens at positions prompt .. prompt+31. Prints the median decode tok/s per
max_seq_len and each one's cost relative to the first. Not a test: timings on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "build" / "kernels" / "host" / "edgecpm-runner"


def export(checkpoint: Path, max_seq_len: int, out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "edgecpm.cli.app", "export", str(checkpoint), "-o", str(out),
                    "--max-seq-len", str(max_seq_len), "--force"], check=True, stdout=subprocess.DEVNULL)
    return out


def decode_tok_s(bundle: Path, prompt: list[int], threads: int) -> float:
    out = subprocess.run([str(RUNNER), "--model", str(bundle / "model.pte"), "--prompt-ids",
                          ",".join(map(str, prompt)), "-n", "32", "-t", str(threads), "--stats-only"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["decode_tok_s"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("--lens", default="512,4096")
    ap.add_argument("--prompt", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "seq-len-cost")
    args = ap.parse_args()
    lens = [int(x) for x in args.lens.split(",")]
    bundles = {n: export(args.checkpoint, n, args.work / str(n)) for n in lens}
    prompt = [3 + (i * 7919) % 60000 for i in range(args.prompt)]
    times: dict[int, list[float]] = {n: [] for n in lens}
    load = os.getloadavg()[0]
    for _ in range(args.rounds):
        for n in lens:
            times[n].append(decode_tok_s(bundles[n], prompt, args.threads))
    base = statistics.median(times[lens[0]])
    print(f"decode at positions {args.prompt}..{args.prompt + 31}, {args.threads} threads, {args.rounds} rounds "
          f"interleaved, load {load:.2f} -> {os.getloadavg()[0]:.2f}")
    print("| max_seq_len | decode tok/s (median) | cost vs first |")
    print("| --- | --- | --- |")
    for n in lens:
        med = statistics.median(times[n])
        print(f"| {n} | {med:.2f} | {base / med:.3f}x |")


if __name__ == "__main__":
    main()
