"""The reproduction report as markdown tables or one json document, and a PNG per claim.

Markdown: a header with the date and machine, then per experiment its setting, the table
(``claim | paper | ours | metric | scale note``) and the line saying where ours differs. A
claim is plotted when the paper gives a figure and ours was measured (``Claim.plottable``): two
bars, paper and ours, on the claim's metric. Where the paper gives a range the plot uses its low
end (the table shows the range).
"""

from __future__ import annotations

import io
import json
import re
import textwrap
from pathlib import Path

from edgecpm.reproduce.claims import Claim, ExperimentResult

COLUMNS = ("claim", "paper", "ours", "metric", "scale note")


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(results: list[ExperimentResult], header: dict) -> str:
    lines = [f"# edgecpm reproduce: {header['date']}, {header['machine']} ({header['device']})", ""]
    for r in results:
        lines += [f"## {r.title}", ""]
        if r.setting:
            lines += [f"Setting: {r.setting}.", ""]
        lines += ["| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
        for c in r.claims:
            lines.append("| " + " | ".join(_cell(x) for x in (c.claim, c.paper, c.ours, c.metric, c.scale)) + " |")
        lines += ["", f"Where ours differs: {r.differs}", ""]
    return "\n".join(lines).rstrip() + "\n"


def as_json(results: list[ExperimentResult], header: dict) -> str:
    return json.dumps({**header, "experiments": [r.as_dict() for r in results]}, indent=2, default=str) + "\n"


def render(results: list[ExperimentResult], header: dict, fmt: str) -> str:
    if fmt == "md":
        return markdown(results, header)
    if fmt == "json":
        return as_json(results, header)
    raise ValueError(f"format {fmt!r}: choose md or json")


def plot_name(experiment: str, index: int, claim: Claim) -> str:
    """``frspec-03-draft-lm-head-flops-with-25-of-vocab.png``: experiment, position, the claim's words."""
    slug = re.sub(r"[^a-z0-9]+", "-", claim.claim.lower()).strip("-")[:60].rstrip("-")
    return f"{experiment}-{index:02d}-{slug}.png"


def claim_png(claim: Claim) -> bytes:
    """Two bars, the paper's figure and ours, on the claim's metric."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5, 4), layout="constrained")
    ax = fig.subplots()
    bars = ax.bar(["paper", "ours"], [claim.paper_value, claim.ours_value], color=["#888888", "#1f77b4"])
    # The paper's bar carries its words (a range, "~"), ours its measured value.
    ax.bar_label(bars, labels=[textwrap.shorten(claim.paper, 40), f"{claim.ours_value:.3g}"], fontsize="small")
    ax.set_title("\n".join(textwrap.wrap(claim.claim, 55)), fontsize="medium")
    ax.set_ylabel(claim.metric, fontsize="small")
    ax.set_xlabel("\n".join(textwrap.wrap(claim.scale, 80)), fontsize="x-small", color="#555555")
    ax.set_ylim(0, 1.15 * max(claim.paper_value, claim.ours_value))
    ax.grid(axis="y", alpha=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def write_plots(results: list[ExperimentResult], folder: Path) -> tuple[list[Path], list[str]]:
    """One PNG per plottable claim into ``folder`` (each written all at once); returns the files
    and the claims not plotted, each with why."""
    from edgecpm.atomic import atomic_file

    folder.mkdir(parents=True, exist_ok=True)
    written, skipped = [], []
    for r in results:
        for i, c in enumerate(r.claims, 1):
            if not c.plottable:
                why = "not measured" if not c.measured else "the paper gives no figure"
                skipped.append(f"{r.name}: {c.claim} ({why})")
                continue
            path = folder / plot_name(r.name, i, c)
            with atomic_file(path, "wb") as f:
                f.write(claim_png(c))
            written.append(path)
    return written, skipped
