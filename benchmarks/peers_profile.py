"""Where a decode step of our program spends its time: `perf record -g` on the native runner.

The run uses a 4-token prompt and many decode steps, so decode dominates the samples (prefill of
4 tokens costs about 4 steps' worth of weight reads, ~1/16 of the run at -n 64). Symbols are
ranked by self time (`--no-children`), grouped by library.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path


def perf_top(runner: Path, bundle: Path, n_decode: int = 64, top: int = 15) -> str:
    """A markdown table of the top symbols by self time, or one line saying why there is none."""
    perf = shutil.which("perf")
    if perf is None:
        return "perf profile: `perf` is not installed (apt-get install linux-perf)"
    with tempfile.TemporaryDirectory(prefix="edgecpm-perf-") as tmp:
        data = Path(tmp) / "perf.data"
        rec = subprocess.run([perf, "record", "-g", "-o", str(data), "--", str(runner), "--model",
                              str(bundle / "model.pte"), "--vocab", str(bundle / "vocab.bin"),
                              "--prompt-ids", "5,6,7,8", "-n", str(n_decode), "--stats-only"],
                             capture_output=True, text=True)
        if rec.returncode != 0:
            return f"perf profile: `perf record` failed (exit {rec.returncode}): {rec.stderr.strip()[-300:]}"
        rep = subprocess.run([perf, "report", "-i", str(data), "--no-children", "--sort", "dso,symbol",
                              "-g", "none", "--stdio"], capture_output=True, text=True)
    rows = []
    for line in rep.stdout.splitlines():
        parts = line.split()
        # "  41.20%  libedgecpm_kernels.so  [.] edgecpm::tq2_gemv ..."
        if len(parts) >= 4 and parts[0].endswith("%") and parts[2] in ("[.]", "[k]"):
            symbol = " ".join(p for p in parts[3:] if p != "-")
            rows.append(f"| {parts[0]} | {parts[1]} | `{symbol[:90]}` |")
        if len(rows) == top:
            break
    if not rows:
        return f"perf profile: no samples parsed from `perf report` ({rep.stderr.strip()[-200:]})"
    head = (f"perf profile of edgecpm-runner, ternary program, 4-token prompt + {n_decode} decode steps "
            "(self time, top symbols):\n\n| self | library | symbol |\n| --- | --- | --- |")
    return head + "\n" + "\n".join(rows)
