from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EDGECPM = Path(sys.executable).parent / "edgecpm"
# What torchao, torch, the exporter and ExecuTorch's runtime print unless -v (edgecpm.quiet).
THIRD_PARTY_LINE = re.compile(r"Warning|warnings\.warn|Failed to load|cpuinfo_utils|^[WE]\d{4} ")


@pytest.mark.slow
def test_demo_prints_text_eval_and_speed_table_and_no_third_party_lines():
    # A real process: native runtime lines go to fd 2, which an in-process runner would not see.
    r = subprocess.run([str(EDGECPM), "demo", "-n", "8"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    out = r.stdout
    assert "### generate" in out and "### quantize" in out and "### eval" in out
    assert "### export" in out and "kernels: " in out
    assert "| tiny-ternary TQ2_0 | ternary TQ2_0 g256 | 2.06 |" in out
    assert "| model | size | params | backend | threads | test | t/s |" in out
    assert "| pp64 |" in out and "| tg32 |" in out
    for backend in ("torch-eager", "executorch (python) + ", "edgecpm-runner (C++) + "):
        assert backend in out
    noise = [line for line in (out + r.stderr).splitlines() if THIRD_PARTY_LINE.search(line)]
    assert not noise, noise
