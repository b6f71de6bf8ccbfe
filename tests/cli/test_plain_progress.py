"""Progress when stderr is not a terminal: periodic plain lines, nothing for a short phase."""

from __future__ import annotations

import io

from edgecpm.cli.plain_progress import PlainProgress


def test_lines_every_interval_and_a_closing_line():
    out = io.StringIO()
    with PlainProgress(4, "scoring", "tok", interval=0, file=out) as bar:
        for _ in range(4):
            bar.update(1)
    lines = out.getvalue().splitlines()
    assert [line.split(",")[0] for line in lines] == [
        "scoring: 1/4 tok (25%)", "scoring: 2/4 tok (50%)", "scoring: 3/4 tok (75%)", "scoring: 4/4 tok (100%)",
        "scoring: 4/4 tok (100%)"]
    assert lines[-1].endswith(", done")


def test_a_phase_shorter_than_the_interval_prints_nothing():
    out = io.StringIO()
    with PlainProgress(1000, "loading", "tensor", interval=3600, file=out) as bar:
        bar.update(1000)
    assert out.getvalue() == ""


def test_cli_prints_progress_lines_in_a_pipe(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from edgecpm.cli.app import app

    monkeypatch.setenv("EDGECPM_PROGRESS_INTERVAL", "0")
    r = CliRunner().invoke(app, ["eval", "tiny", "--max-tokens", "64", "--ctx", "32"])
    assert r.exit_code == 0, r.output
    assert "scoring: " in r.output and "scoring: 64/65 tok (98%)" in r.output and ", done" in r.output
