"""``edgecpm reproduce``: bad options refused in one line before any experiment runs; a run
prints (or writes) the tables and the plots."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

import edgecpm.reproduce as reproduce_pkg
from edgecpm.cli.app import app
from edgecpm.reproduce.claims import Claim, ExperimentResult


def invoke(*args):
    return CliRunner().invoke(app, ["reproduce", *map(str, args)])


@pytest.fixture
def fake_experiments(monkeypatch):
    """Each experiment returns one plottable and one unmeasured claim, without measuring anything."""
    ran = []

    def fake(name, gpu, artifacts, tokenizer, quick):
        ran.append(name)
        claims = [Claim(f"{name} ratio", "2×", "1.5×", "ratio", "tiny", 2.0, 1.5),
                  Claim(f"{name} pending", "—", "not measured: later", "x", "-")]
        return ExperimentResult(name, f"{name} title", claims, differs=f"{name} is smaller")

    monkeypatch.setattr(reproduce_pkg, "run_experiment", fake)
    return ran


@pytest.mark.parametrize("args, message", [
    (["nope"], "experiment 'nope': choose one of frspec, infllmv2, bitcpm, edge or all"),
    (["all", "-o", "md"], "-o md: -o is the file to write; for the format pass --format md"),
    (["all", "--device", "tpu"], "--device tpu: choose host or cuda"),
    (["all", "--format", "csv"], "--format csv: choose md or json"),
    (["all", "--plot", "c.txt"], "--plot c.txt: is a file"),
    (["all", "--tokenizer", "nowhere"], "--tokenizer nowhere: no tokenizer.model there"),
    (["all", "--artifacts", "nowhere"], "--artifacts nowhere: no such folder"),
])
def test_refused_in_one_line_before_any_experiment(tmp_path, monkeypatch, fake_experiments, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.txt").write_text("x")
    r = invoke(*args)
    assert r.exit_code == 2, r.output
    assert r.output.count("\n") == 1 and message in r.output, r.output
    assert fake_experiments == [] and sorted(p.name for p in tmp_path.iterdir()) == ["c.txt"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu_is_refused(fake_experiments):
    r = invoke("infllmv2", "--device", "cuda")
    assert r.exit_code == 2 and "--device cuda: no CUDA device here" in r.output
    assert fake_experiments == []


def test_all_runs_every_experiment_in_order_and_prints_markdown(fake_experiments):
    r = invoke("all")
    assert r.exit_code == 0, r.output
    assert fake_experiments == ["frspec", "infllmv2", "bitcpm", "edge"]
    assert "| claim | paper | ours | metric | scale note |" in r.output
    assert "| edge ratio | 2× | 1.5× | ratio | tiny |" in r.output
    assert "Where ours differs: edge is smaller" in r.output


def test_json_file_and_plots(tmp_path, fake_experiments):
    pytest.importorskip("matplotlib")
    r = invoke("bitcpm", "--format", "json", "-o", tmp_path / "r.json", "--plot", tmp_path / "plots")
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "r.json").read_text())
    assert [e["name"] for e in doc["experiments"]] == ["bitcpm"]
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["bitcpm-01-bitcpm-ratio.png"]
    assert "not plotted (1): bitcpm: bitcpm pending (not measured)" in r.output
    again = invoke("bitcpm", "--plot", tmp_path / "plots")   # PNGs there: only with --force
    assert again.exit_code == 2 and "already holds PNGs" in again.output


@pytest.mark.slow  # times the C++ kernel at 8K (~10 s on 2 loaded cores)
def test_infllmv2_quick_run_end_to_end(lib):
    r = invoke("infllmv2", "--quick", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    claims = doc["experiments"][0]["claims"]
    measured = [c for c in claims if c["measured"]]
    assert [c["claim"] for c in measured][:2] == ["attention speedup over dense, decode step @ 8K",
                                                  "attention speedup over dense, prefill chunk (64 rows) @ 8K"]
    assert all(c["ours_value"] > 0 for c in measured)
    assert all(0 <= c["ours_value"] <= 100 for c in measured if c["metric"].startswith("dense attention mass"))
    assert [c["measured"] for c in claims].count(False) == 1   # the end-to-end 8B row, with its reason
