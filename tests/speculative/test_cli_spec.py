"""``generate --spec``, ``export --draft`` and ``bench --spec`` from the command line: the eager
model with a draft head, and a program exported with the speculative methods."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from edgecpm.bench import run_bench
from edgecpm.cli.app import app
from edgecpm.speculative.tree import SpecConfig

PROMPT = "Return the number of items"


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_generate_spec_eager_matches_plain():
    r = invoke("generate", "tiny", "--spec", "tiny-draft", "--chain", "-p", PROMPT, "-n", 12, "--stats")
    assert r.exit_code == 0, r.output
    assert "output identical to plain" in r.output and "chain 3" in r.output


def test_draft_options_need_a_program(tmp_path):
    r = invoke("export", "tiny", "--format", "gguf", "--draft", "tiny-draft", "-o", tmp_path / "m.gguf")
    assert r.exit_code == 2 and "use --format pte" in r.output
    r = invoke("export", "tiny", "--frspec", tmp_path / "fr.safetensors", "-o", tmp_path / "b")
    assert r.exit_code == 2 and "pass --draft" in r.output
    assert not (tmp_path / "b").exists()


def test_bench_spec_eager_rows_and_summary():
    report = run_bench("tiny", "host", n_prompt=12, n_gen=8, reps=1, spec_arg="tiny-draft",
                       spec=SpecConfig(mode="chain", chain_len=2))
    assert [r.test for r in report.rows] == ["pp12", "tg8", "tg8 spec"]
    (summary,) = report.summary["speculative"]
    assert summary["identical"] and summary["label"] == "chain 2"
    assert 1.0 <= summary["mean_accepted"] <= 3.0 and 0 < summary["draft_share"] < 1
    assert "speculative (chain 2) on torch-eager" in report.markdown()
    assert json.loads(report.json())["speculative"][0]["speedup"] > 0


def test_bench_spec_is_host_only():
    r = invoke("bench", "tiny", "--device", "cuda", "--spec", "tiny-draft", "--n-prompt", 4, "-n", 2, "-r", 1)
    assert r.exit_code == 2 and ("host" in r.output or "CUDA" in r.output)


@pytest.mark.slow
def test_program_with_draft_generates_and_benches(tiny_bundles):
    _, bundle = tiny_bundles["float-spec"]
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert {"verify", "draft"} <= set(manifest["methods"]) and manifest["speculative"]["draft"] == "tiny-draft"
    r = invoke("generate", bundle, "--spec", "program", "-p", PROMPT, "-n", 12, "--stats")
    assert r.exit_code == 0, r.output
    assert "output identical to plain" in r.output and "tree 2/10/12" in r.output
    other = invoke("generate", bundle, "--spec", "some/other-draft", "-p", PROMPT, "-n", 4)
    assert other.exit_code == 2 and "pass --spec program" in other.output

    report = run_bench(str(bundle), "host", n_prompt=16, n_gen=16, reps=1, spec_arg="program",
                       spec=SpecConfig(mode="chain"))
    assert all(s["identical"] for s in report.summary["speculative"])
    assert "tg16 spec" in [r.test for r in report.rows]


@pytest.mark.slow
def test_program_without_draft_says_how_to_get_one(tiny_bundles):
    _, bundle = tiny_bundles["float"]
    r = invoke("generate", bundle, "--spec", "program", "-p", PROMPT, "-n", 4)
    assert r.exit_code == 2 and "re-export" in r.output and "--draft" in r.output
