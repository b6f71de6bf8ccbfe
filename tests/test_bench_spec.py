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


@pytest.mark.slow
def test_price_speculation_end_to_end_on_the_tiny_model(tmp_path):
    """The whole pricing path on the embedded tiny model: random draft and FR-Spec files, the
    export, the runner's replay sweep (acceptance exactly at A = 0 and 1) and the report."""
    from edgecpm.bench_spec.replay import Drafting
    from edgecpm.bench_spec.shape import price_speculation
    from edgecpm.checkpoint.locate import resolve_model
    from tests.runner.test_runner import HOST_RUNNER, require

    runner = require(HOST_RUNNER, "kernels")
    lines = price_speculation({"tiny": resolve_model("tiny")}, tmp_path, runner, n_prompt=16, n_gen=16, reps=1,
                              frspec_size=1024, draftings=(Drafting.chain(2),), targets=(1.0, 3.0))
    text = "\n".join(lines)
    assert "| chain 2 | 1.0 | 0.000 | 1.00 |" in text and "| chain 2 | 3.0 | 1.000 | 3.00 |" in text
    assert "| yes |" in text and "NO in" not in text
    assert "a draft of this shape would give, interpolated on the measured curves: chain 2 **" in text
    assert "| 3 | " in text   # verify(3) and draft rows in the per-call table
    assert (tmp_path / "random-draft" / "draft.json").is_file()
    assert (tmp_path / "random-frspec-1k.safetensors").is_file()
