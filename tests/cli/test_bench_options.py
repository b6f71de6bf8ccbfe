"""``edgecpm bench``: one meaning per option name (``-o`` a file, ``--format`` the format, no
``-p`` count), bounds on every count, and a report file written whole or not at all."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from edgecpm.cli.app import app


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


QUICK = ["--n-prompt", 4, "-n", 2, "-r", 1]


@pytest.mark.parametrize("args, message", [
    (["-p", 4], "-p 4: bench's prompt length is --n-prompt N"),
    (["--n-prompt", 4, "-n", 100000],
     "--n-prompt 4 -n 100000 (a cache of 100006 positions): the model has 1024 positions"),
    (["--n-prompt", 0], "--n-prompt 0: must be at least 1"),
    (["-n", 0], "-n/--n-gen 0: must be at least 1"),
    (["-r", 0], "-r/--repetitions 0: must be at least 1"),
    (["-r", 1000], "-r/--repetitions 1000: must be at most 100"),
    (["--format", "xml"], "--format xml: choose md, csv, json or jsonl"),
    (["-o", "json"], "-o json: -o is the file to write; for the format pass --format json"),
    (["--threads", 0], "--threads 0: must be at least 1"),
    (["--threads", 100000], "--threads 100000: must be at most"),
    (["--seed", -2], "--seed -2: must be at least 0"),
    (["--spec", "tiny-draft", "--seed", 3], "--seed: only for the random prompt"),
    (["--force"], "--force: only with -o FILE"),
    (["--tree-size", 4], "--tree-size: only with --spec DRAFT"),
    (["--spec", "tiny-draft", "--chain", "--chain-len", 0], "--chain-len 0: must be at least 1"),
])
def test_refused_with_one_line(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    r = invoke("bench", "tiny", *args)
    assert r.exit_code == 2, r.output
    assert r.output.count("\n") == 1 and message in r.output, r.output
    assert list(tmp_path.iterdir()) == []


def test_report_file_is_checked_before_the_run(tmp_path):
    (tmp_path / "old.md").write_text("keep me\n")
    r = invoke("bench", "tiny", *QUICK, "-o", tmp_path / "old.md")
    assert r.exit_code == 2 and "already exists; remove it or pass --force" in r.output
    assert (tmp_path / "old.md").read_text() == "keep me\n"
    r = invoke("bench", "tiny", *QUICK, "-o", tmp_path)
    assert r.exit_code == 2 and f"-o takes a file path here, e.g. {tmp_path / 'bench.md'}" in r.output
    r = invoke("bench", "tiny", *QUICK, "-o", tmp_path / "old.md" / "r.md")
    assert r.exit_code == 2 and "old.md is a file, not a directory" in r.output


def test_report_file_format_threads_and_seed(tmp_path):
    out = tmp_path / "r.json"
    r = invoke("bench", "tiny", *QUICK, "--format", "json", "-o", out, "--threads", 1, "--seed", 5)
    assert r.exit_code == 0, r.output
    assert f"wrote {out} (json, 2 rows)" in r.output
    rows = json.loads(out.read_text())["rows"]
    assert [row["test"] for row in rows] == ["pp4", "tg2"] and {row["threads"] for row in rows} == {1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]  # no temp sibling left
    r = invoke("bench", "tiny", *QUICK, "--format", "csv", "-o", out, "--force")
    assert r.exit_code == 0, r.output
    assert out.read_text().startswith("model,size_mib,")


def test_interrupted_run_leaves_no_report(tmp_path, monkeypatch):
    import edgecpm.bench as bench

    def interrupted(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(bench, "run_bench", interrupted)
    r = invoke("bench", "tiny", *QUICK, "-o", tmp_path / "r.md")
    assert r.exit_code == 130 and list(tmp_path.iterdir()) == []


def test_threads_are_restored_after_the_run():
    import torch

    from edgecpm.bench import run_bench

    before = torch.get_num_threads()
    report = run_bench("tiny", "host", n_prompt=4, n_gen=2, reps=1, threads=1)
    assert {r.threads for r in report.rows} == {1} and torch.get_num_threads() == before
