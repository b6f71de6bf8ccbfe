"""The result of one reproduction experiment: a row per claim, the paper's figure beside ours.

A claim keeps its figures twice: as text for the table (``paper``, ``ours``, in the metric's own
words) and, where both are numbers on one scale, as ``paper_value``/``ours_value`` for the plot.
A claim we did not measure on this run says so in ``ours`` (``not measured: why``) and has no
``ours_value``; it is never dropped from the table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

NOT_MEASURED = "not measured"


@dataclass
class Claim:
    claim: str
    paper: str
    ours: str
    metric: str
    scale: str
    paper_value: float | None = None
    ours_value: float | None = None

    @property
    def measured(self) -> bool:
        return not self.ours.startswith(NOT_MEASURED)

    @property
    def plottable(self) -> bool:
        return self.paper_value is not None and self.ours_value is not None


def not_measured(claim: str, paper: str, metric: str, scale: str, why: str,
                 paper_value: float | None = None) -> Claim:
    """A row for a claim this run could not measure, with the reason in the ``ours`` cell."""
    return Claim(claim, paper, f"{NOT_MEASURED}: {why}", metric, scale, paper_value=paper_value)


@dataclass
class ExperimentResult:
    name: str        # the command's argument: frspec, infllmv2, bitcpm, edge
    title: str
    claims: list[Claim]
    differs: str     # one plain line: where ours differs from the paper, and why
    setting: str = ""  # what was run: model, corpus, shapes, threads, device
    details: dict = field(default_factory=dict)  # raw measurements, kept in the json output

    def as_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "setting": self.setting, "differs": self.differs,
                "claims": [asdict(c) | {"measured": c.measured} for c in self.claims], "details": self.details}


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, refusing a zero or negative denominator (a broken timing)."""
    if denominator <= 0:
        raise ValueError(f"ratio: denominator {denominator} must be positive (a time or a rate)")
    return numerator / denominator


def share_saved(full: float, reduced: float) -> float:
    """The fraction of ``full`` (FLOPs, seconds) that ``reduced`` saves: 1 - reduced / full."""
    return 1.0 - ratio(reduced, full)
