"""The claim rows' arithmetic and how a report is printed and plotted."""

from __future__ import annotations

import json

import pytest

from edgecpm.reproduce.claims import Claim, ExperimentResult, not_measured, ratio, share_saved
from edgecpm.reproduce.render import markdown, plot_name, render, write_plots

HEADER = {"date": "2026-01-01 00:00 UTC", "machine": "test CPU, 2 cores", "device": "host"}


def result() -> ExperimentResult:
    return ExperimentResult("demo", "Demo experiment", [
        Claim("speedup a|b", "2×", "1.5×", "ratio", "tiny", 2.0, 1.5),
        Claim("no paper figure", "—", "3", "count", "tiny", ours_value=3.0),
        not_measured("pending", "1.1×", "ratio", "0.5B", "the benchmark is not wired in", paper_value=1.1),
    ], differs="ours is smaller", setting="a test")


def test_ratio_and_share_saved():
    assert ratio(3.0, 2.0) == 1.5
    assert share_saved(100.0, 25.0) == pytest.approx(0.75)
    assert share_saved(8.0, 8.0) == 0.0
    with pytest.raises(ValueError, match="denominator 0"):
        ratio(1.0, 0.0)


def test_not_measured_claims_keep_their_reason_and_are_not_plotted():
    c = result().claims[2]
    assert not c.measured and not c.plottable
    assert c.ours == "not measured: the benchmark is not wired in"
    assert result().claims[0].plottable and not result().claims[1].plottable


def test_markdown_has_the_columns_every_claim_and_the_differs_line():
    text = markdown([result()], HEADER)
    assert text.startswith("# edgecpm reproduce: 2026-01-01 00:00 UTC, test CPU, 2 cores (host)")
    assert "| claim | paper | ours | metric | scale note |" in text
    assert "| speedup a\\|b | 2× | 1.5× | ratio | tiny |" in text   # a pipe in a cell is escaped
    assert "| pending | 1.1× | not measured: the benchmark is not wired in | ratio | 0.5B |" in text
    assert "Where ours differs: ours is smaller" in text


def test_json_keeps_every_claim_with_its_values():
    doc = json.loads(render([result()], HEADER, "json"))
    assert doc["machine"] == "test CPU, 2 cores"
    claims = doc["experiments"][0]["claims"]
    assert [c["measured"] for c in claims] == [True, True, False]
    assert claims[0]["paper_value"] == 2.0 and claims[0]["ours_value"] == 1.5


def test_plot_names_are_file_safe():
    assert plot_name("frspec", 3, Claim("draft LM-head FLOPs with 25% of vocab", "", "", "", "")) == \
        "frspec-03-draft-lm-head-flops-with-25-of-vocab.png"


def test_one_png_per_plottable_claim_and_the_rest_named(tmp_path):
    pytest.importorskip("matplotlib")
    written, skipped = write_plots([result()], tmp_path / "plots")
    assert [p.name for p in written] == ["demo-01-speedup-a-b.png"]
    assert written[0].read_bytes().startswith(b"\x89PNG")
    assert skipped == ["demo: no paper figure (the paper gives no figure)", "demo: pending (not measured)"]
