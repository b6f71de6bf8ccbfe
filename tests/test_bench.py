"""``edgecpm bench``: rows with real samples, the .pte path through both runtimes, and the refusals."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from edgecpm.bench import _agreement, run_bench
from edgecpm.bench_records import BenchRow
from edgecpm.checkpoint.loader import load_model
from edgecpm.checkpoint.locate import resolve_model
from edgecpm.cli.app import app
from edgecpm.runtime.cuda import OnDevice


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_eager_bench_reports_llama_bench_rows():
    report = run_bench("tiny", "host", n_prompt=8, n_gen=4, reps=2)
    assert [r.test for r in report.rows] == ["pp8", "tg4"]
    for r in report.rows:
        assert r.backend == "torch-eager" and len(r.samples) == 2 and all(s > 0 for s in r.samples)
    tg = report.rows[1]
    # decode streams every stored weight once per token
    assert tg.weight_gb_s == pytest.approx(tg.size_mib * 2**20 * tg.mean / 1e9)
    table = report.markdown().splitlines()
    assert table[0].startswith("| model | size | params | backend | threads | test | t/s | median | GB/s | % bw "
                               "| device")
    assert len(table) == 6 and table[-1].startswith("copy bandwidth: ") and table[-1].endswith("GB/s over it)")


def test_json_output_keeps_raw_samples():
    r = invoke("bench", "tiny", "--n-prompt", 4, "-n", 2, "-r", 2, "--format", "json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)["rows"]
    assert [len(row["samples"]) for row in rows] == [2, 2]


def test_row_statistics():
    row = BenchRow("m", 100.0, 1.0, "b", 2, "tg8", [10.0, 12.0, 20.0])
    assert row.mean == 14.0 and row.median == 12.0 and row.sd == pytest.approx(28**0.5)
    assert BenchRow("m", 100.0, 1.0, "b", 2, "pp8", [1.0]).weight_gb_s is None


def test_agreement_of_a_moved_model_with_its_reference():
    """The cuda path's comparison, exercised with the CPU as the 'device' (no GPU here)."""
    ref = load_model(resolve_model("tiny"), max_seq_len=32)
    moved = OnDevice(load_model(resolve_model("tiny"), max_seq_len=32), "cpu")
    a = _agreement(ref, moved, [1, 3451, 1822, 391, 268])
    assert a == {"top1_match": 1.0, "max_abs_logit_diff": 0.0}


@pytest.mark.parametrize("device, message", [
    ("cuda", "no CUDA device"),
    ("ssh://me@jetson", "runs an exported bundle"),
    ("tpu", "choose one of host, cuda"),
])
def test_unavailable_devices_are_refused(device, message):
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("a GPU is present")
    r = invoke("bench", "tiny", "--device", device, "--n-prompt", 4, "-n", 2, "-r", 1)
    assert r.exit_code == 2 and message in r.output




@pytest.mark.slow
def test_pte_bench_runs_python_runtime_and_native_runner(tiny_bundles):
    _, bundle = tiny_bundles["int4"]
    report = run_bench(str(bundle), "host", n_prompt=8, n_gen=4, reps=1)
    backends = [r.backend.split(" + ")[0] for r in report.rows]
    assert backends == ["executorch (python)"] * 2 + ["edgecpm-runner (C++)"] * 2
    assert all(r.samples[0] > 0 for r in report.rows)
    too_long = invoke("bench", bundle, "--n-prompt", 90, "-n", 32)
    assert too_long.exit_code == 2 and "max_seq_len 96" in too_long.output
    assert "--dtype: " in (r := invoke("bench", bundle, "--dtype", "fp32").output) and "exported program" in r
    assert "runs on the CPU" in invoke("bench", bundle, "--device", "cuda").output
