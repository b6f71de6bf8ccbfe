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
from typing import Callable

from benchmarks import peers_report as rep
from benchmarks.common import RUNNER, add_format_option, emit, progress
from benchmarks.peers_artifacts import build
from benchmarks.peers_profile import perf_top
from edgecpm.bench_depth import copy_bandwidth_line, host_copy_bandwidth, prompt_ids
from edgecpm.bench_records import BenchReport, cpu_name
from edgecpm.errors import EdgecpmError
from edgecpm.model.presets import preset
from edgecpm.peers import et_8da4w, llamacpp

THREADS = 2


def _runner_line(cmd: list[str]) -> dict:
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise EdgecpmError(f"{cmd[0]} failed (exit {out.returncode}): {out.stderr.strip()[-400:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_once(name: str, run: Callable[[], dict], round_no: int, notes: list[str]) -> dict | None:
    """One timing; a failure is reported and leaves the artifact out of this round."""
    try:
        got = run()
    except EdgecpmError as e:
        progress(f"[peers] round {round_no}: {name}: {e}")
        return None
    if got.get("extra_bufts") is False:   # llamacpp.time_gguf's retry with plain buffers
        note = (f"{name}: the default run crashed (llama.cpp's AMX/repack weight buffers); timed with "
                "--no-extra-bufts (plain CPU buffers)")
        if note not in notes:
            notes.append(note)
    return got


def runs(art, prompt: list[int], n: int, have_llama: bool) -> dict[str, Callable[[], dict]]:
    """Each artifact's timing, one process per call: ours through the runner's stats line, the
    peers through ``edgecpm.peers`` (llama.cpp under both OpenMP wait policies, the faster kept)."""
    ids = ",".join(map(str, prompt))
    timings = {}
    for name, bundle in ((rep.OURS_TERNARY, art.ternary_pte), (rep.OURS_INT4, art.int4_pte)):
        # The runner makes n tokens: the first from prefill, then n - 1 decode steps, which its
        # decode_tok_s counts; the peers time n decode steps. Both are per-step rates.
        cmd = [str(RUNNER), "--model", str(bundle / "model.pte"), "--vocab", str(bundle / "vocab.bin"),
               "--prompt-ids", ids, "-n", str(n + 1), "-t", str(THREADS), "--stats-only"]
        timings[name] = lambda cmd=cmd: _runner_line(cmd)
    if have_llama:
        for name, gguf in ((rep.LLAMA_TQ2, art.ternary_gguf), (rep.LLAMA_Q4, art.int4_gguf)):
            timings[name] = lambda gguf=gguf: llamacpp.time_gguf(gguf, prompt, n, THREADS)
    if art.et_8da4w is not None:
        timings[rep.ET_8DA4W] = lambda: et_8da4w.time_8da4w(art.et_8da4w, prompt, n)
    return timings


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
    no_llama = "" if llamacpp.llama_python() else f"llama.cpp: {llamacpp.INSTALL_HINT}"
    missing = [m for m in (no_llama, art.missing_8da4w) if m]
    vocab = 8192 if args.shape == "tiny" else 73448
    prompt = prompt_ids(min(vocab, 70000), args.prompt, 0)
    timings = runs(art, prompt, args.tokens, not no_llama)

    load_before = os.getloadavg()
    copy = host_copy_bandwidth(RUNNER.parent)
    copy_gb_s = copy["copy_gb_s"]
    rounds, notes = [], []
    for r in range(args.rounds):
        got = {}
        for name, run in timings.items():
            got[name] = run_once(name, run, r + 1, notes)
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
        f"{copy_bandwidth_line(copy)}",
        "size = MiB of the program (.pte) or GGUF, file MB = 10^6 bytes of it; GB/s (tg rows) = file bytes x mean "
        "decode tok/s (the whole file counted as weights streamed per token).",
        *rep.missing_lines(rounds, sizes), *(f"missing peer: {m}" for m in missing), *(f"note: {n}" for n in notes)]
    if profile:
        report.notes += ["", profile]
    report.notes += ["", rep.ratio_line(rounds)]
    emit([report], args.format)


if __name__ == "__main__":
    main()
