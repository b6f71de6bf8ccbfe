"""``edgecpm bench --depth`` and the copy bandwidth column: depth names, the fit check, decode after
a context equal to decoding the whole prompt, and bw_pct from the row's own GB/s."""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from edgecpm.bench import run_bench
from edgecpm.bench_depth import (check_depths_fit, context_ids, host_copy_bandwidth,
                                 parse_copy_bandwidth, depth_test_name)
from edgecpm.checkpoint.loader import load_model
from edgecpm.checkpoint.locate import resolve_model
from edgecpm.cli.app import app
from edgecpm.errors import EdgecpmError, UsageError
from edgecpm.export.targets import load_target
from edgecpm.generate import generate
from edgecpm.runtime.device_runtime import RUNNER

QUICK = ["--n-prompt", 4, "-n", 2, "-r", 1]


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_names_follow_llama_bench():
    assert depth_test_name("tg32", 8192) == "tg32 @ d8192" and depth_test_name("pp64", 512) == "pp64 @ d512"
    assert depth_test_name("tg32", 0) == "tg32"


def test_the_deepest_run_must_fit_the_cache():
    check_depths_fit([0, 80], 8, 8, 96, "x", "")
    with pytest.raises(UsageError, match=r"^--depth 81 \+ --n-prompt 8 \+ -n 8 = 97 positions, but B holds 96; "
                                         r"re-export$"):
        check_depths_fit([0, 81], 8, 8, 96, "B", "re-export")
    with pytest.raises(UsageError, match=r"^--n-prompt 90 \+ -n 8 = 98 positions"):   # no depth to name
        check_depths_fit([0], 90, 8, 96, "B", "re-export")


def test_context_ids_are_seeded_and_past_the_special_tokens():
    ids = context_ids(1000, 64, seed=3)
    assert ids == context_ids(1000, 64, seed=3) != context_ids(1000, 64, seed=4)
    assert len(ids) == 64 and min(ids) >= 3 and max(ids) < 1000


def test_decode_after_a_context_is_decode_of_the_whole_prompt():
    """The untimed context prefill then the timed prompt chunk leave the cache as one prefill would:
    the greedy tokens equal ``generate``'s on context + prompt."""
    model = load_model(resolve_model("tiny"), max_seq_len=64)
    context, prompt = context_ids(model.config.vocab_size, 20, seed=0), [1, 3451, 1822, 391, 268]
    reference = generate(model, context + prompt, 6).tokens
    after = generate(model, prompt, 6, context=context)
    assert after.tokens == reference
    assert after.prompt_tokens == prompt and after.prefill_s > 0 and after.decode_s > 0


def test_eager_rows_at_depth_carry_copy_bandwidth_and_percent():
    report = run_bench("tiny", "host", n_prompt=4, n_gen=3, reps=1, depths=(16, 0))
    assert [r.test for r in report.rows] == ["pp4", "tg3", "pp4 @ d16", "tg3 @ d16"]
    copy = report.summary["copy_bandwidth"]["copy_gb_s"]
    assert copy > 0 and json.loads(report.json())["copy_bandwidth"]["copy_gb_s"] == copy
    for r in report.rows:
        assert r.copy_gb_s == copy and r.peak_rss_mib is None   # Python's own peak is not the backend's
        if r.test.startswith("tg"):
            assert r.bw_pct == pytest.approx(100 * r.weight_gb_s / copy)
        else:
            assert r.bw_pct is None
    assert "| GB/s | % bw | device |" in report.markdown()


def test_copy_bandwidth_program_prints_json():
    program = load_target("host").kernel_dir / "edgecpm_copy_bandwidth"
    result = host_copy_bandwidth(program.parent)
    assert result["copy_gb_s"] > 0 and result["buffer_mib"] == 128 and result["threads"] >= 1
    with pytest.raises(EdgecpmError, match="is not built: run `make kernels`"):
        host_copy_bandwidth(program.parent / "nowhere")


@pytest.mark.parametrize("text", ["", "error: out of memory", '{"copy_gb_s": 0}', '{"gb": 3}'])
def test_copy_bandwidth_without_a_figure_is_refused(text):
    with pytest.raises(EdgecpmError, match="printed no copy bandwidth"):
        parse_copy_bandwidth(text, "dev")
    assert parse_copy_bandwidth('warming\n{"copy_gb_s": 12.5}\n', "dev") == {"copy_gb_s": 12.5}


@pytest.mark.parametrize("args, message", [
    (["--depth", "-1"], "--depth -1: expected comma-separated whole numbers of tokens, 0 and up"),
    (["--depth", "0,x"], "--depth 0,x: expected comma-separated whole numbers"),
    (["--depth", "0,2000"], "--depth 2000 --n-prompt 4 -n 2 (a cache of 2008 positions): the model has 1024 positions"),
    (["--depth", "8", "--spec", "tiny-draft"], "--depth 8 with --spec: speculative rows are measured at depth 0 only"),
])
def test_depth_refused_with_one_line(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    r = invoke("bench", "tiny", *QUICK, *args)
    assert r.exit_code == 2, r.output
    assert r.output.count("\n") == 1 and message in r.output, r.output


@pytest.mark.slow
def test_runner_rows_at_depth_carry_its_peak_memory(tiny_bundles):
    _, bundle = tiny_bundles["int4"]
    report = run_bench(str(bundle), "host", n_prompt=8, n_gen=4, reps=1, depths=(0, 16))
    python = [r for r in report.rows if r.backend.startswith("executorch (python)")]
    runner = [r for r in report.rows if r.backend.startswith("edgecpm-runner")]
    assert [r.test for r in python] == ["pp8", "tg4", "pp8 @ d16", "tg4 @ d16"]
    assert [r.test for r in runner] == ["pp8", "tg4", "tg4 @ d16"]   # its prefill times the context too
    binary_mib = (load_target("host").kernel_dir / RUNNER).stat().st_size / 2**20
    ram_mib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    assert all(binary_mib < r.peak_rss_mib < ram_mib for r in runner)
    assert all(r.peak_rss_mib is None for r in python)
    too_deep = invoke("bench", bundle, "--n-prompt", 8, "-n", 4, "--depth", 90)
    assert too_deep.exit_code == 2 and "max_seq_len 96; --depth 90 --n-prompt 8 -n 4 needs 104" in too_deep.output
