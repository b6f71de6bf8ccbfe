"""Hostile files through the ``edgecpm`` CLI: 0 crashes, 0 tracebacks, 0 partial outputs.

A fixed-seed set of mutations (tests/fuzz/mutations.py) of every file a user hands the Python side:
a checkpoint's config.json, safetensors header and tokenizer.json, a quantized checkpoint's
quant_config.json, and an exported bundle's manifest.json and model.pte (rehashed in its manifest,
as an attacker would, so the program loader itself meets the bytes). Each case must end in a clean
run or one ``error:`` line with exit 2, and a failed ``quantize`` must leave nothing behind.
The runner's side of the same files is tests/fuzz/test_runner_fuzz.py.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

GENERATE = ["generate", "{dir}", "-p", "def", "-n", "1"]
QUANTIZE = ["quantize", "{dir}", "--scheme", "int4", "--group-size", "32", "-o", "{out}"]


def _safetensors_header_window(path: Path) -> int:
    (n,) = struct.unpack("<Q", path.read_bytes()[:8])
    return 8 + n + 16


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    from edgecpm.checkpoint.locate import resolve_model
    from edgecpm.checkpoint.quantized import quantize_checkpoint
    from edgecpm.quant.config import Int4Config

    root = tmp_path_factory.mktemp("fuzz-ckpt")
    fp = root / "tiny"
    shutil.copytree(resolve_model("tiny"), fp)
    int4 = root / "tiny-int4"
    quantize_checkpoint(fp, int4, Int4Config(group_size=32))
    return {"fp": fp, "int4": int4}


def _plan(checkpoints: dict[str, Path], bundle: Path, scratch: Path) -> dict:
    fp, int4 = checkpoints["fp"], checkpoints["int4"]
    groups = [
        ("config", fp, "config.json", 30, None, GENERATE),
        ("weights", fp, "model.safetensors", 30, _safetensors_header_window(fp / "model.safetensors"), GENERATE),
        ("tokenizer", fp, "tokenizer.json", 30, None, GENERATE),
        ("quantize-weights", fp, "model.safetensors", 12, _safetensors_header_window(fp / "model.safetensors"),
         QUANTIZE),
        ("quantize-config", fp, "config.json", 12, None, QUANTIZE),
        ("quant-config", int4, "quant_config.json", 30, None, GENERATE),
        ("int4-weights", int4, "model.safetensors", 30, _safetensors_header_window(int4 / "model.safetensors"),
         GENERATE),
        ("manifest", bundle, "manifest.json", 40, None, GENERATE),
        ("program", bundle, "model.pte", 40, 65536, GENERATE),
    ]
    firsts = [sum(g[3] for g in groups[:i]) for i in range(len(groups))]
    return {"scratch": str(scratch), "groups": [
        {"name": name, "dir": str(d), "file": f, "seed": 13, "count": count, "window": window, "argv": argv,
         "rehash": name == "program", "first_case": first}
        for (name, d, f, count, window, argv), first in zip(groups, firsts)]}


def _run_plan(plan: Path, expected: int) -> list[dict]:
    """Every case's result. A worker that ends inside a case (ExecuTorch's failed check, turned into
    one error line and status 2 by edgecpm's abort handler) is recorded so, and a new one goes on."""
    results, first = [], 0
    while first < expected:
        proc = subprocess.run([sys.executable, "-m", "tests.fuzz.cli_worker", str(plan), str(first)], cwd=REPO,
                              capture_output=True, text=True, timeout=900)
        lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        results += [r for r in lines if "case" in r]
        if proc.returncode == 0:
            break
        started = next((r for r in reversed(lines) if "start" in r), None)
        last_line = (proc.stderr.strip().splitlines() or [""])[-1]
        if started is None or proc.returncode != 2 or not last_line.startswith("error: "):
            pytest.fail(f"worker ended with {proc.returncode} during {started and started['start']}: "
                        f"{proc.stderr[-1500:]}")
        results.append({"case": started["start"], "exit": 2, "raised": None, "tail": last_line,
                        "left": sorted(p.name for p in Path(started["outputs"]).iterdir()), "process_exit": True})
        first = started["number"] + 1
    return results


@pytest.mark.slow
def test_mutated_inputs_never_crash_raise_or_leave_partial_outputs(checkpoints, tiny_bundles, tmp_path):
    _, bundle = tiny_bundles["int4"]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(_plan(checkpoints, bundle, tmp_path / "scratch")))
    (tmp_path / "scratch").mkdir()
    expected = sum(g["count"] for g in json.loads(plan.read_text())["groups"])
    results = _run_plan(plan, expected)
    assert len(results) == expected
    tracebacks = [(r["case"], r["raised"]) for r in results if r["raised"] or r["exit"] not in (0, 2)]
    partial = [(r["case"], r["left"]) for r in results if r["left"]]
    refused_badly = [(r["case"], r["tail"]) for r in results if r["exit"] == 2 and not r["tail"].startswith("error: ")]
    assert not tracebacks, f"{len(tracebacks)} of {len(results)} cases raised: {tracebacks[:10]}"
    assert not partial, partial
    assert not refused_badly, refused_badly
    assert sum(r["exit"] == 2 for r in results) > len(results) // 3  # the damage is mostly seen, not ignored
