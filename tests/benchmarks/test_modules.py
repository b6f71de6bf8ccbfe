"""Every benchmark is a module of the ``benchmarks`` package that runs as
``python -m benchmarks.NAME`` from the repository root, without editing ``sys.path``.

One subprocess (a clean interpreter, cwd = the repository root, as the README's commands run)
imports every module and runs each runnable one's ``--help`` through ``runpy``: importing torch
once, not once per module."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODULES = sorted(p.stem for p in (REPO / "benchmarks").glob("*.py") if p.stem != "__init__")
RUNNABLE = [m for m in MODULES if 'if __name__ == "__main__":' in (REPO / "benchmarks" / f"{m}.py").read_text()]

PROBE = r"""
import contextlib, importlib, io, json, runpy, sys
modules, runnable = json.loads(sys.argv[1])
out = {}
for name in runnable:  # before the imports below: runpy warns about a module already imported
    sys.argv = [f"benchmarks.{name}", "--help"]
    text, code = io.StringIO(), None
    with contextlib.redirect_stdout(text), contextlib.redirect_stderr(text):
        try:
            runpy.run_module(f"benchmarks.{name}", run_name="__main__", alter_sys=True)
        except SystemExit as e:
            code = e.code
    out[name] = {"code": code, "text": text.getvalue()}
for name in modules:
    importlib.import_module(f"benchmarks.{name}")
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def help_runs() -> dict:
    r = subprocess.run([sys.executable, "-c", PROBE, json.dumps([MODULES, RUNNABLE])], cwd=REPO,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_the_package_holds_the_benchmarks():
    assert {"infllm", "kernels", "peers", "speculative", "triton_gpu"} <= set(RUNNABLE)
    assert (REPO / "benchmarks" / "__init__.py").is_file()


@pytest.mark.parametrize("name", MODULES)
def test_no_module_edits_sys_path(name):
    assert "sys.path" not in (REPO / "benchmarks" / f"{name}.py").read_text()


@pytest.mark.parametrize("name", RUNNABLE)
def test_help_runs_cleanly(help_runs, name):
    run = help_runs[name]
    assert run["code"] in (0, None) and run["text"].startswith("usage: "), run["text"][-1000:]
    assert "Traceback" not in run["text"]
