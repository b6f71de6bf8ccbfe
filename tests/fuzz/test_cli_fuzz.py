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
    return {"scratch": str(scratch), "groups": [
        {"name": name, "dir": str(d), "file": f, "seed": 13, "count": count, "window": window, "argv": argv,
         "rehash": name == "program"}
        for name, d, f, count, window, argv in groups]}


@pytest.mark.slow
def test_mutated_inputs_never_crash_raise_or_leave_partial_outputs(checkpoints, tiny_bundles, tmp_path):
    _, bundle = tiny_bundles["int4"]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(_plan(checkpoints, bundle, tmp_path / "scratch")))
    (tmp_path / "scratch").mkdir()
    proc = subprocess.run([sys.executable, "-m", "tests.fuzz.cli_worker", str(plan)], cwd=REPO,
                          capture_output=True, text=True, timeout=900)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    results = [r for r in lines if "case" in r]
    if proc.returncode != 0:
        last = next((r["start"] for r in reversed(lines) if "start" in r), "?")
        pytest.fail(f"worker ended with {proc.returncode} during {last}: {proc.stderr[-1500:]}")
    expected = sum(g["count"] for g in json.loads(plan.read_text())["groups"])
    assert len(results) == expected
    tracebacks = [(r["case"], r["raised"]) for r in results if r["raised"] or r["exit"] not in (0, 2)]
    partial = [(r["case"], r["left"]) for r in results if r["left"]]
    refused_badly = [(r["case"], r["tail"]) for r in results if r["exit"] == 2 and "error: " not in r["tail"]]
    assert not tracebacks, f"{len(tracebacks)} of {len(results)} cases raised: {tracebacks[:10]}"
    assert not partial, partial
    assert not refused_badly, refused_badly
    assert sum(r["exit"] == 2 for r in results) > len(results) // 3  # the damage is mostly seen, not ignored
