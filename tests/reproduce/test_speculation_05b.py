"""The 0.5B speculation row: the best drafting's median speedup from the replay sweep's points, and a
missing program named with the command that makes it."""

from __future__ import annotations

import pytest

from edgecpm.bench_spec.replay import Point
from edgecpm.reproduce import speculation_05b


def point(drafting: str, plain: list[float], spec: list[float], accepted: list[float], differ=()) -> Point:
    return Point(drafting, 2.5, 0.8, plain_tok_s=plain, spec_tok_s=spec, accepted=accepted, differ_from=list(differ))


def test_best_point_is_the_highest_median_ratio():
    chain2 = point("chain 2", [100, 100, 50], [130, 150, 70], [2.4, 2.5, 2.6])   # ratios 1.3, 1.5, 1.4
    chain3 = point("chain 3", [100, 100, 100], [120, 125, 190], [2.5, 2.5, 2.5])  # 1.2, 1.25, 1.9
    best = speculation_05b.best_point([chain2, chain3])
    assert (best.drafting, best.speedup, best.accepted) == ("chain 2", pytest.approx(1.4), 2.5)
    assert best.identical and best.runs == 6
    assert best.describe() == "1.40× (chain 2, 2.50 tokens/step measured)"
    chain3.differ_from.append(40)
    flagged = speculation_05b.best_point([chain2, chain3])
    assert not flagged.identical and "DIFFER" in flagged.describe()


def test_missing_program_names_the_command(tmp_path):
    got = speculation_05b.measure(tmp_path, quick=True)
    assert got.speedup is None and "benchmarks.speculative --shape minicpm4-0.5b" in got.missing
