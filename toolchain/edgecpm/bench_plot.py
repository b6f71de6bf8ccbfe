"""Bench rows as a picture: tokens/s against context depth or thread count, one line per
artifact and backend (``edgecpm bench --plot``, ``edgecpm bench-plot``).

Decode rows (``tg…``) go in the first panel, prefill rows (``pp…``) in the second, so a line's
two rates are read side by side. The x axis is the depth when the rows were measured at several
(tests named ``tg32 @ d8192``), else the thread count. A point is a row's mean with its sd as an
error bar. Only ``t/s`` rows are plotted: op-level ``ms`` rows have no tokens.

matplotlib is an optional dependency (``pip install 'edgecpm[plot]'``); ``require_matplotlib``
says so before any benchmarking starts, and the figure renders with the Agg backend, which needs
no display.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from edgecpm.bench_records import BenchRow, parse_rows
from edgecpm.errors import EdgecpmError

# "tg32", "pp64 @ d8192", "tg32 spec", "tg32 spec @ d512": kind, the rest of the name, the depth.
_TEST = re.compile(r"^(?P<kind>pp|tg)\d+(?P<rest>.*?)(?:\s*@\s*d(?P<depth>\d+))?$")
_FORMATS = {".json": "json", ".jsonl": "jsonl", ".csv": "csv"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def require_matplotlib(option: str = "--plot") -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise EdgecpmError(f"{option} needs matplotlib, which is not installed: pip install 'edgecpm[plot]'") from None


def read_report_rows(path: Path) -> list[BenchRow]:
    """The rows of a saved report (``edgecpm bench --format json|jsonl|csv -o FILE``)."""
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise EdgecpmError(f"{path}: not a saved bench report; pass a .json, .jsonl or .csv file from "
                           "`edgecpm bench --format json|jsonl|csv -o FILE`")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise EdgecpmError(f"{path}: cannot read it ({e.strerror or e})") from None
    try:
        return parse_rows(text, fmt)
    except (ValueError, KeyError, TypeError) as e:
        raise EdgecpmError(f"{path}: not a bench report in {fmt} ({type(e).__name__}: {e}); pass the file "
                           f"`edgecpm bench --format {fmt} -o FILE` wrote") from None


def plot_series(rows: list[BenchRow]) -> tuple[str, dict[str, dict[str, list[tuple[float, BenchRow]]]]]:
    """(x axis name, {"decode"/"prefill": {line label: [(x, row)...] sorted by x}}): what
    ``plot_png`` draws, separated from drawing so it can be checked without pixels."""
    parsed = []
    for r in rows:
        m = _TEST.match(r.test)
        if r.unit == "t/s" and m:
            parsed.append((r, m))
    if not parsed:
        raise EdgecpmError("nothing to plot: no tokens/s rows (pp… or tg… tests) in the report(s)")
    depths = {m.group("depth") for _, m in parsed}
    by_depth = len(depths) > 1
    if not by_depth and any(r.threads is None for r, _ in parsed):
        missing = next(r for r, _ in parsed if r.threads is None)
        raise EdgecpmError(f"cannot plot: the row {missing.model} / {missing.backend} / {missing.test} has no "
                           "thread count and the rows are not at several depths")
    # Rows of several lengths (tg32 and tg128 from two reports) are separate lines, named by length.
    lengths = {kind: {r.test.split()[0] for r, m in parsed if m.group("kind") == kind} for kind in ("pp", "tg")}
    panels: dict[str, dict[str, list[tuple[float, BenchRow]]]] = {"decode": {}, "prefill": {}}
    for r, m in parsed:
        x = float(m.group("depth") or 0) if by_depth else float(r.threads)
        label = f"{r.model} · {r.backend}{m.group('rest')}"
        if len(lengths[m.group("kind")]) > 1:
            label += f" · {r.test.split()[0]}"
        if by_depth and r.threads is not None:
            label += f" · {r.threads} threads"
        if r.device:
            label += f" · {r.device}"
        panels["decode" if m.group("kind") == "tg" else "prefill"].setdefault(label, []).append((x, r))
    for lines in panels.values():
        for points in lines.values():
            points.sort(key=lambda p: p[0])
    return ("context depth (tokens)" if by_depth else "threads"), panels


def plot_png(rows: list[BenchRow], title: str = "") -> bytes:
    """The PNG bytes of the figure."""
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    xlabel, panels = plot_series(rows)
    shown = [(name, lines) for name, lines in panels.items() if lines]
    fig = Figure(figsize=(7 * len(shown), 4.8), layout="constrained")
    axes = fig.subplots(1, len(shown), squeeze=False)[0]
    for ax, (name, lines) in zip(axes, shown):
        for label, points in lines.items():
            xs = [x for x, _ in points]
            ax.errorbar(xs, [r.mean for _, r in points], yerr=[r.sd for _, r in points], marker="o", capsize=3,
                        label=label)
        ax.set_title(f"{name} ({', '.join(sorted({r.test.split()[0] for p in lines.values() for _, r in p}))})")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("tokens/s")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
        xs = sorted({x for p in lines.values() for x, _ in p})
        ax.set_xticks(xs, [f"{x:g}" for x in xs])
    if title:
        fig.suptitle(title)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def write_plot(rows: list[BenchRow], path: Path, title: str = "") -> None:
    """The figure at ``path``, all or nothing (``edgecpm.atomic``)."""
    from edgecpm.atomic import atomic_file
    from edgecpm.errors import OutputPathError

    png = plot_png(rows, title)
    try:
        with atomic_file(path, "wb") as f:
            f.write(png)
    except OSError as e:
        raise OutputPathError(f"{path}: cannot write it ({e.strerror or e})") from None
