"""What every benchmark shares: where the repository's build outputs are, the ``--format``
option, and printing reports through ``edgecpm.bench_records``' printers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edgecpm.bench_records import FORMATS, BenchReport

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "build" / "kernels" / "host" / "edgecpm-runner"


def add_format_option(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--format", choices=FORMATS, default="md",
                    help="how the rows are printed: md (one table per report), or csv, json, jsonl (every "
                         "row of the run in one document, raw samples kept)")


def emit(reports: list[BenchReport], fmt: str) -> None:
    """Markdown prints each report as its own table; the machine-readable formats print one
    document with every report's rows (their notes and summaries merged), so a file of the
    output parses as one."""
    if fmt == "md":
        print("\n\n".join(r.markdown() for r in reports) + "\n", flush=True)
        return
    merged = BenchReport([row for r in reports for row in r.rows], notes=[n for r in reports for n in r.notes],
                         summary={k: v for r in reports for k, v in r.summary.items()})
    print(merged.render(fmt), flush=True)


def progress(message: str) -> None:
    """A line about the run (what is being built, each round's rates) on stderr, so that stdout
    holds only the report and a csv / json / jsonl one stays parseable."""
    print(message, file=sys.stderr, flush=True)
