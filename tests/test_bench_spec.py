"""edgecpm.bench_spec: the replay sweep's arithmetic (chain acceptance, the curve, the tables)."""

from __future__ import annotations

import pytest

from edgecpm.bench_spec.replay import CallCosts, Drafting, Point, accept_for, chain_mean, cost_table, speedup_at
from edgecpm.errors import UsageError


def test_accept_for_inverts_the_chain_mean():
    # (1 - a^(c+1)) / (1 - a): a chain of 3 at a = 0.5 accepts 1.875 tokens per step.
    assert chain_mean(0.5, 3) == pytest.approx(1.875)
    for depth in (1, 2, 3, 4):
        for mean in (1.0, 1.5, 2.0, depth + 1.0):
            if mean <= depth + 1:
                assert chain_mean(accept_for(mean, depth), depth) == pytest.approx(mean, abs=1e-9)
    assert accept_for(1.0, 3) == pytest.approx(0.0, abs=1e-9) and accept_for(4.0, 3) == pytest.approx(1.0)
    with pytest.raises(UsageError, match="a chain of 2 gives 1 to 3 tokens per step"):
        accept_for(3.5, 2)


def test_tree_depth_is_its_longest_path():
    assert Drafting.tree(2, 10, 12).depth == 3 and Drafting.tree(1, 4, 6).depth == 2
    assert Drafting.chain(3).flags == ("--spec", "chain", "--chain-len", "3")


def test_speedup_is_interpolated_between_measured_points():
    points = [Point("chain 3", 1.0, 0.0, [100.0], [80.0], [1.0]),
              Point("chain 3", 3.0, 0.8, [100.0], [160.0], [3.0]),
              Point("chain 2", 2.0, 0.6, [100.0], [500.0], [2.0])]
    assert points[1].speedup == pytest.approx(1.6)
    assert speedup_at(points, "chain 3", 2.0) == pytest.approx(1.2)
    assert speedup_at(points, "chain 3", 3.5) is None


def test_cost_table_divides_by_calls_and_by_the_plain_forward():
    costs = CallCosts()
    costs.add({"plain_forward_ms": 10.0, "verify_in_place_calls": {"4": [2, 50.0]}, "draft_calls": {"1": [4, 8.0]}})
    costs.add({"plain_forward_ms": 10.0, "verify_in_place_calls": {"4": [2, 30.0]}})
    assert costs.per_call_ms("verify_in_place", 4) == pytest.approx(20.0)
    table = cost_table(costs)
    assert "| 4 | 20.00 | 2.00 |  |  |  |  |" in table and "| 1 |  |  |  |  | 2.00 | 0.20 |" in table
