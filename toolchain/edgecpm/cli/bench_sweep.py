"""``edgecpm bench --threads 1,2,4 --plot FILE.png`` (one run per thread count, one report) and
``edgecpm bench-plot`` (saved reports, several runs or artifacts, on one figure)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

import typer

from edgecpm.cli.bounds import check_range

THREADS_HELP = ("Threads for every backend: torch's (eager, cuda), ExecuTorch's pool (.pte in Python) and the "
                "runner's -t (default: each one's own, one per core for ExecuTorch and the runner); a list such "
                "as 1,2,4 runs once per count (plot them with --plot)")
PLOT_HELP = ("Also draw tokens/s against threads (or depth) as a PNG here, one line per artifact and backend "
             "(needs matplotlib: pip install 'edgecpm[plot]')")


def parse_threads(text: Optional[str]) -> list[Optional[int]]:
    """``--threads`` as the counts to run: [None] (each backend's default), [4], [1, 2, 4]."""
    if text is None:
        return [None]
    words = [w.strip() for w in text.split(",")]
    if not all(w.isdigit() for w in words):
        raise typer.BadParameter(f"--threads {text}: expected a count or a comma-separated list of counts, "
                                 "such as 4 or 1,2,4")
    counts = [int(w) for w in words]
    if len(set(counts)) != len(counts):
        raise typer.BadParameter(f"--threads {text}: a count is repeated; name each once")
    return counts


def check_plot(plot: Optional[Path], force: bool, option: str = "--plot") -> None:
    """Refuse a --plot that cannot be made before any benchmarking: matplotlib missing, a path
    that is not a .png or cannot be written, an existing file without --force."""
    if plot is None:
        return
    from edgecpm.bench_plot import require_matplotlib
    from edgecpm.cli.output_file import check_output_file

    if plot.suffix.lower() != ".png":
        raise typer.BadParameter(f"{option} {plot}: the figure is a PNG; name a .png file")
    require_matplotlib(option)
    check_output_file(plot, force, "bench.png")


def run_each(counts: list[Optional[int]], run: Callable[[Optional[int]], object]):
    """One report from a run per thread count: the rows in order; notes and summaries labelled by
    their count when there are several."""
    reports = [run(t) for t in counts]
    if len(reports) == 1:
        return reports[0]
    merged = reports[0]
    merged.notes = [f"threads {t}: {note}" for t, r in zip(counts, reports) for note in r.notes]
    merged.summary = {"by_threads": [{"threads": t, **r.summary} for t, r in zip(counts, reports) if r.summary]} \
        if any(r.summary for r in reports) else {}
    merged.rows = [row for r in reports for row in r.rows]
    return merged


def bench_plot(
    reports: list[Path] = typer.Argument(..., help="Saved reports (edgecpm bench --format json|jsonl|csv -o FILE)"),
    out: Path = typer.Option(..., "-o", "--out", help="The PNG to write"),
    title: str = typer.Option("", help="A title over the figure"),
    force: bool = typer.Option(False, help="Replace OUT if it exists"),
):
    """Plot tokens/s from saved bench reports against threads (or depth): several runs or
    artifacts on one figure."""
    from edgecpm.bench_plot import read_report_rows, write_plot

    check_range("reports", len(reports), 1)
    check_plot(out, force, "-o")
    rows = [row for path in reports for row in read_report_rows(path)]
    write_plot(rows, out, title)
    typer.echo(f"wrote {out} ({len(rows)} rows from {len(reports)} report(s))")
