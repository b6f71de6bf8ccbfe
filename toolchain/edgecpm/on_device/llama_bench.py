"""``bench --device URL --compare llama.cpp``: llama.cpp's own ``llama-bench``, found on the device's
PATH, on our GGUF export of the bundle's checkpoint (copied beside the bundle, only when changed),
with the same prompt and generation lengths and repetitions as our runner's rows. Its JSONL
records (one per test, ``samples_ts`` the per-repetition rates) become rows of the same report.
"""

from __future__ import annotations

import json
from pathlib import Path

from edgecpm.bench_records import BenchRow
from edgecpm.errors import DeviceError
from edgecpm.runtime.deploy import Deployment
from edgecpm.runtime.remote_shell import join_path

INSTALL = ("build llama.cpp on the device (`cmake -B build && cmake --build build --target llama-bench`) and put "
           "build/bin on the PATH of its login shell")


def find_llama_bench(d: Deployment, timeout: float) -> str:
    found = d.transport.shell("command -v llama-bench || true", timeout=timeout).stdout.strip()
    if not found:
        raise DeviceError(f"--compare llama.cpp on {d.transport.name}: no llama-bench on the device's PATH; {INSTALL}")
    return found


def llama_bench_rows(d: Deployment, binary: str, gguf: Path, n_prompt: int, n_gen: int, reps: int,
                     threads: int | None, params_m: float, timeout: float) -> list[BenchRow]:
    folder = join_path(d.transport.root, f"peers/{gguf.parent.name}")
    d.transport.sync({"model.gguf": gguf}, folder, timeout)
    argv = [binary, "-m", join_path(folder, "model.gguf"), "-p", str(n_prompt), "-n", str(n_gen), "-r", str(reps),
            "-o", "jsonl", *([] if threads is None else ["-t", str(threads)])]
    res = d.transport.run(argv, timeout=timeout)
    if res.returncode != 0:
        raise DeviceError(f"llama-bench on {d.transport.name} failed: "
                          f"{(res.stderr.strip().splitlines() or ['exit status %d' % res.returncode])[-1]}")
    rows = []
    for line in res.stdout.splitlines():
        if not line.startswith("{"):
            continue
        rec = json.loads(line)
        test = f"pp{rec['n_prompt']}" if rec["n_prompt"] and not rec["n_gen"] else f"tg{rec['n_gen']}"
        rows.append(BenchRow(f"{gguf.name} (llama.cpp)", rec["model_size"] / 2**20, params_m,
                             f"llama.cpp llama-bench ({rec['build_commit']}) on {d.transport.name}",
                             rec["n_threads"], test, [float(s) for s in rec["samples_ts"]], device=d.transport.name))
    if sorted(r.test for r in rows) != sorted([f"pp{n_prompt}", f"tg{n_gen}"]):
        raise DeviceError(f"llama-bench on {d.transport.name} printed no pp{n_prompt}/tg{n_gen} records "
                          f"(is it a llama.cpp build with -o jsonl?)")
    return rows
