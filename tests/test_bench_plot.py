"""``edgecpm bench --plot`` / ``--threads 1,2`` and ``edgecpm bench-plot``: which rows become
which lines and points (checked on the series, not on pixels), and that the file is a PNG."""

from __future__ import annotations

import json
import struct
import sys

import pytest
from typer.testing import CliRunner

from edgecpm.bench_plot import PNG_MAGIC, plot_png, plot_series
from edgecpm.bench_records import BenchReport, BenchRow
from edgecpm.cli.app import app
from edgecpm.errors import EdgecpmError


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def row(model, backend, threads, test, samples, unit="t/s"):
    return BenchRow(model, 1.0, 0.1, backend, threads, test, samples, unit=unit, device="cpu")


THREAD_ROWS = [row("a", "eager", t, test, [v * t, v * t + 1]) for t in (4, 1, 2)
               for test, v in (("pp8", 100.0), ("tg4", 10.0))] + [row("b", "runner", 2, "tg4", [7.0])]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_series_against_threads_one_line_per_artifact_and_backend():
    xlabel, panels = plot_series(THREAD_ROWS)
    assert xlabel == "threads"
    assert sorted(panels["decode"]) == ["a · eager · cpu", "b · runner · cpu"]
    points = panels["decode"]["a · eager · cpu"]
    assert [x for x, _ in points] == [1.0, 2.0, 4.0]          # sorted by x
    assert [r.mean for _, r in points] == [10.5, 20.5, 40.5]
    assert [r.test for _, r in panels["prefill"]["a · eager · cpu"]] == ["pp8"] * 3


def test_series_against_depth_when_rows_have_several():
    rows = [row("a", "runner", 4, f"tg32 @ d{d}", [100.0 / (1 + d / 1024)]) for d in (0, 4096, 1024)]
    rows.append(row("a", "runner", 4, "tg32 spec @ d0", [90.0]))
    xlabel, panels = plot_series(rows)
    assert xlabel == "context depth (tokens)"
    assert [x for x, _ in panels["decode"]["a · runner · 4 threads · cpu"]] == [0.0, 1024.0, 4096.0]
    assert [x for x, _ in panels["decode"]["a · runner spec · 4 threads · cpu"]] == [0.0]
    assert panels["prefill"] == {}


def test_rows_of_several_lengths_are_separate_lines():
    rows = [row("a", "eager", 1, "tg4", [10.0]), row("a", "eager", 1, "tg16", [9.0])]
    assert sorted(plot_series(rows)[1]["decode"]) == ["a · eager · tg16 · cpu", "a · eager · tg4 · cpu"]


def test_nothing_to_plot_is_one_error():
    with pytest.raises(EdgecpmError, match="no tokens/s rows"):
        plot_series([row("op", "kernel", 1, "matmul", [1.0], unit="ms")])


def test_png_from_fabricated_rows():
    width, height = png_size(plot_png(THREAD_ROWS, "title"))
    assert width >= 600 and height >= 300


def test_bench_plot_reads_saved_reports(tmp_path):
    jsonl, js = tmp_path / "a.jsonl", tmp_path / "b.json"
    jsonl.write_text(BenchReport(rows=THREAD_ROWS[:6]).jsonl())
    js.write_text(BenchReport(rows=THREAD_ROWS[6:]).json())
    out = tmp_path / "plots" / "out.png"
    r = invoke("bench-plot", jsonl, js, "-o", out)
    assert r.exit_code == 0, r.output
    assert "7 rows from 2 report(s)" in r.stdout
    png_size(out.read_bytes())
    again = invoke("bench-plot", jsonl, "-o", out)
    assert again.exit_code != 0 and "--force" in again.output
    assert invoke("bench-plot", jsonl, "-o", out, "--force").exit_code == 0


def test_bench_plot_refuses_what_is_not_a_report(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    r = invoke("bench-plot", text, "-o", tmp_path / "x.png")
    assert r.exit_code != 0 and "not a saved bench report" in r.output and "Traceback" not in r.output
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"rows": [{"model": "x"}]}))
    r = invoke("bench-plot", broken, "-o", tmp_path / "x.png")
    assert r.exit_code != 0 and "not a bench report in json" in r.output
    assert not (tmp_path / "x.png").exists()
    assert "name a .png file" in invoke("bench-plot", broken, "-o", tmp_path / "x.jpg").output


def test_bench_threads_list_and_plot_from_a_tiny_run(tmp_path):
    out, plot = tmp_path / "r.jsonl", tmp_path / "speed.png"
    r = invoke("bench", "tiny", "--n-prompt", 4, "-n", 2, "-r", 1, "--threads", "1,2", "--format", "jsonl",
               "-o", out, "--plot", plot)
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(d["threads"], d["test"]) for d in rows] == [(1, "pp4"), (1, "tg2"), (2, "pp4"), (2, "tg2")]
    png_size(plot.read_bytes())


@pytest.mark.parametrize("threads, message", [("1,x", "comma-separated list"), ("2,2", "repeated"),
                                              ("0,1", "--threads")])
def test_bad_thread_lists_are_refused(threads, message):
    r = invoke("bench", "tiny", "--threads", threads)
    assert r.exit_code != 0 and message in r.output and "Traceback" not in r.output


def test_plot_without_matplotlib_is_refused_before_benchmarking(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)   # import matplotlib now raises ImportError
    r = invoke("bench", "no-such-model", "--plot", tmp_path / "p.png")
    assert r.exit_code != 0
    assert "pip install 'edgecpm[plot]'" in r.output and "no-such-model" not in r.output
    assert not (tmp_path / "p.png").exists()
