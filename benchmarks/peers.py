"""Our ternary and int4 programs beside llama.cpp and ExecuTorch's 8da4w, same shapes, one run.

    make bench-peers                                   # makes build/peers-venv (llama-cpp-python) once, then:
    .venv/bin/python -m benchmarks.peers --shape minicpm4-0.5b [--rounds 3] [--tokens 32] [--prompt 64]
    .venv/bin/python -m benchmarks.peers --shape tiny  # the same at tiny shapes: minutes, for checking the script

Artifacts (benchmarks.peers_artifacts; random weights: speed does not depend on the values):
ours = the native edgecpm-runner on our .pte bundles (ternary TQ2_0 g256, int4 sym g32, int8 table
and tied head); llama.cpp = llama-cpp-python on GGUF files of the same quantized bytes (TQ2_0 /
Q4_0 + Q8_0 table); ExecuTorch = export_llm's Llama of the same shapes, 8da4w g32 + XNNPACK.

Every timing is its own process, 2 threads, the same random prompt and number of greedy decode
steps, one warm-up inside each process first. The five artifacts run interleaved, round after
round, so drift on this shared machine hits all of them alike; each row's samples are its rounds,
and the last line is the median over rounds of ours / the faster peer of that round.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from benchmarks import peers_report as rep
from benchmarks.common import ROOT, RUNNER, add_format_option, emit, progress
from benchmarks.peers_artifacts import build
from benchmarks.peers_profile import perf_top
from edgecpm.bench_records import BenchReport, cpu_name
from edgecpm.bench_timing import time_calls
from edgecpm.model.presets import preset
from edgecpm.peers.llamacpp import WORKER as LLAMACPP_WORKER

PEERS_PY = ROOT / "build" / "peers-venv" / "bin" / "python"
THREADS = 2


def copy_bandwidth_gb_s(nbytes: int = 512 * 2**20, reps: int = 5) -> float:
    """A 2-thread copy of a 512 MiB array (each thread one half; numpy drops the GIL while it
    copies), counted as read + write bytes per second: the traffic the memory system sustained."""
    src = np.ones(nbytes, dtype=np.uint8)
    dst = np.zeros_like(src)
    halves = [(dst[:nbytes // 2], src[:nbytes // 2]), (dst[nbytes // 2:], src[nbytes // 2:])]
    with ThreadPoolExecutor(THREADS) as pool:
        seconds = time_calls(lambda: list(pool.map(lambda p: np.copyto(*p), halves)), reps)
    return 2 * nbytes / min(seconds) / 1e9


def _json_line(cmd: list[str], env: dict | None = None) -> dict:
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:2])} ... failed (exit {out.returncode}): {out.stderr.strip()[-400:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_once(name: str, cmd: list[str], round_no: int, notes: list[str], env: dict | None = None) -> dict | None:
    try:
        return _json_line(cmd, env)
    except RuntimeError as e:
        progress(f"[peers] round {round_no}: {name}: {e}")
        if not (name.startswith("llama.cpp") and "(exit -11)" in str(e) and "--no-extra-bufts" not in cmd):
            return None
    # Seen here: llama.cpp's AMX weight buffer (its default on AMX CPUs) segfaults on Q4_0. Plain
    # CPU buffers for this artifact from now on (cmd is kept), said so under the table.
    cmd.append("--no-extra-bufts")
    notes.append(f"{name}: the default run crashed (SIGSEGV in llama.cpp's AMX/repack weight buffers); "
                 f"timed with --no-extra-bufts (plain CPU buffers) from round {round_no} on")
    return run_once(name, cmd, round_no, notes, env)


def run_llama_cpp(name: str, cmd: list[str], round_no: int, notes: list[str]) -> dict | None:
    """llama.cpp under both OpenMP wait policies, the faster decode kept: its default spinning
    wait is best on a quiet machine and collapses when the cores are shared (README), passive is
    the reverse. The peer gets its better run every round; the record says which policy it was."""
    runs = [run_once(name, cmd, round_no, notes, {**os.environ, "OMP_WAIT_POLICY": policy})
            for policy in ("ACTIVE", "PASSIVE")]
    runs = [r for r in runs if r is not None]
    return max(runs, key=lambda r: r["decode_tok_s"]) if runs else None


def llama_cpp_missing() -> str:
    if not PEERS_PY.is_file():
        return f"llama-cpp-python: {PEERS_PY} does not exist; run `make bench-peers` (builds llama.cpp, ~10+ min)"
    probe = subprocess.run([str(PEERS_PY), "-c", "import llama_cpp"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"llama-cpp-python is not importable in {PEERS_PY}; run `make bench-peers`"
    return ""


def commands(art, prompt: list[int], n: int, have_llama: bool) -> dict[str, list[str]]:
    ids = ",".join(map(str, prompt))
    cmds = {}
    for name, bundle in ((rep.OURS_TERNARY, art.ternary_pte), (rep.OURS_INT4, art.int4_pte)):
        # The runner makes n tokens: the first from prefill, then n - 1 decode steps, which its
        # decode_tok_s counts; the peers time n decode steps. Both are per-step rates.
        cmds[name] = [str(RUNNER), "--model", str(bundle / "model.pte"), "--vocab", str(bundle / "vocab.bin"),
                      "--prompt-ids", ids, "-n", str(n + 1), "-t", str(THREADS), "--stats-only"]
    if have_llama:
        for name, gguf in ((rep.LLAMA_TQ2, art.ternary_gguf), (rep.LLAMA_Q4, art.int4_gguf)):
            cmds[name] = [str(PEERS_PY), str(LLAMACPP_WORKER), str(gguf),
                          "--prompt-ids", ids, "-n", str(n), "--threads", str(THREADS)]
    if art.et_8da4w is not None:
        cmds[rep.ET_8DA4W] = [sys.executable, "-m", "edgecpm.peers.et_8da4w_worker", "time",
                              str(art.et_8da4w), "--prompt-ids", ids, "-n", str(n)]
    return cmds


def file_sizes(art) -> dict[str, int]:
    files = {rep.OURS_TERNARY: art.ternary_pte / "model.pte", rep.OURS_INT4: art.int4_pte / "model.pte",
             rep.LLAMA_TQ2: art.ternary_gguf, rep.LLAMA_Q4: art.int4_gguf, rep.ET_8DA4W: art.et_8da4w}
    return {k: p.stat().st_size for k, p in files.items() if p is not None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", choices=["minicpm4-0.5b", "tiny"], default="minicpm4-0.5b")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tokens", type=int, default=32, help="greedy decode steps")
    ap.add_argument("--prompt", type=int, default=64, help="prompt length (random token ids)")
    ap.add_argument("--fresh", action="store_true", help="rebuild the cached checkpoints too")
    ap.add_argument("--no-8da4w-export", action="store_true",
                    help="do not build ExecuTorch's 8da4w program if it is not cached (15-20 min at 0.5B)")
    ap.add_argument("--no-profile", action="store_true")
    add_format_option(ap)
    args = ap.parse_args()
    if not RUNNER.is_file():
        sys.exit(f"{RUNNER} is not built: run `make kernels`")

    # Program context: next power of two over prompt + decode (min 128), the same for ours and 8da4w.
    ctx = max(128, 1 << (args.prompt + args.tokens + 8 - 1).bit_length())
    art = build(args.shape, ctx, args.fresh, not args.no_8da4w_export)
    no_llama = llama_cpp_missing()
    missing = [m for m in (no_llama, art.missing_8da4w) if m]
    vocab = 8192 if args.shape == "tiny" else 73448
    prompt = torch.randint(3, min(vocab, 70000), (args.prompt,), generator=torch.Generator().manual_seed(0)).tolist()
    cmds = commands(art, prompt, args.tokens, not no_llama)

    load_before = os.getloadavg()
    copy_gb_s = copy_bandwidth_gb_s()
    rounds, notes = [], []
    for r in range(args.rounds):
        got = {}
        for name, cmd in cmds.items():
            run = run_llama_cpp if name.startswith("llama.cpp") else run_once
            got[name] = run(name, cmd, r + 1, notes)
            if got[name] is None:  # reported by run_once, and left out of this round's ratio
                del got[name]
                continue
            policy = f" (OMP_WAIT_POLICY={got[name]['omp_wait_policy']})" if "omp_wait_policy" in got[name] else ""
            progress(f"[peers] round {r + 1}: {name}: prefill {got[name]['prefill_tok_s']:.1f} tok/s, "
                     f"decode {got[name]['decode_tok_s']:.1f} tok/s{policy}")
        rounds.append(got)
    load_after = os.getloadavg()

    profile = "" if args.no_profile else perf_top(RUNNER, art.ternary_pte)
    sizes = file_sizes(art)
    report = BenchReport(
        rep.rows(rounds, sizes, copy_gb_s, args.prompt, args.tokens, preset(args.shape).num_parameters / 1e6,
                 THREADS, cpu_name()),
        title=f"Peers: {args.shape} shapes, random weights, prompt {args.prompt} random ids, {args.tokens} greedy "
              f"decode steps, {THREADS} threads, {args.rounds} interleaved rounds (samples: one per round)",
        summary={"ratio": {"decode_ternary_over_best": rep.ratio_to_best(rounds, rep.OURS_TERNARY, "decode_tok_s"),
                           "prefill_ternary_over_best": rep.ratio_to_best(rounds, rep.OURS_TERNARY, "prefill_tok_s"),
                           "decode_int4_over_best": rep.ratio_to_best(rounds, rep.OURS_INT4, "decode_tok_s")},
                 "copy_gb_s": copy_gb_s, "load_before": load_before, "load_after": load_after})
    report.notes = [
        f"date {datetime.datetime.now().isoformat(timespec='minutes')}; load average (1/5/15 min) before "
        f"{' '.join(f'{x:.2f}' for x in load_before)}, after {' '.join(f'{x:.2f}' for x in load_after)}; "
        f"copy bandwidth {copy_gb_s:.1f} GB/s (2-thread copy of 512 MiB, read + write bytes)",
        "size = MiB of the program (.pte) or GGUF, file MB = 10^6 bytes of it; GB/s (tg rows) = file bytes x mean "
        "decode tok/s (the whole file counted as weights streamed per token).",
        *rep.missing_lines(rounds, sizes), *(f"missing peer: {m}" for m in missing), *(f"note: {n}" for n in notes)]
    if profile:
        report.notes += ["", profile]
    report.notes += ["", rep.ratio_line(rounds)]
    emit([report], args.format)


if __name__ == "__main__":
    main()
