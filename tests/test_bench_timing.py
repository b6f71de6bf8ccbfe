"""The timing harness with a fake clock and a fake sync: what is counted, what is not, and when
the device is synchronized (no real timing is asserted)."""

from __future__ import annotations

import pytest

from edgecpm.bench_timing import in_ms, mean, median, rates, repeat_calls, sd, time_calls


class FakeClock:
    """Advances only when the timed function says so, and logs every read."""

    def __init__(self, log: list):
        self.now, self.log = 0.0, log

    def __call__(self) -> float:
        self.log.append("clock")
        return self.now


def test_warmup_is_not_counted_and_every_clock_read_follows_a_sync():
    log: list = []
    clock = FakeClock(log)
    durations = iter([100.0, 200.0, 1.0, 2.0, 3.0])  # two warm-ups (slow: cold caches), three reps

    def fn():
        log.append("fn")
        clock.now += next(durations)

    samples = time_calls(fn, reps=3, warmup=2, sync=lambda: log.append("sync"), setup=lambda: log.append("setup"),
                         clock=clock)
    assert samples == [1.0, 2.0, 3.0]
    assert log == ["setup", "sync", "clock", "fn", "sync", "clock"] * 5
    assert len([e for e in log if e == "fn"]) == 5


def test_setup_runs_outside_the_clock():
    clock = FakeClock([])

    def slow_setup():
        clock.now += 50.0

    def fn():
        clock.now += 1.0

    assert time_calls(fn, reps=2, warmup=0, setup=slow_setup, clock=clock) == [1.0, 1.0]


def test_repeat_calls_returns_results_after_the_warmup_and_syncs_each_call():
    calls, syncs = iter(range(10)), []
    got = repeat_calls(lambda: next(calls), reps=3, warmup=1, sync=lambda: syncs.append(1))
    assert got == [1, 2, 3] and len(syncs) == 4
    assert repeat_calls(lambda: "x", reps=2, warmup=0) == ["x", "x"]


@pytest.mark.parametrize("reps, warmup", [(0, 1), (2, -1)])
def test_bad_counts_are_refused(reps, warmup):
    with pytest.raises(ValueError, match="reps"):
        time_calls(lambda: None, reps=reps, warmup=warmup)
    with pytest.raises(ValueError, match="reps"):
        repeat_calls(lambda: None, reps=reps, warmup=warmup)


def test_statistics_and_unit_helpers():
    assert mean([1.0, 2.0, 6.0]) == 3.0 and median([1.0, 2.0, 6.0]) == 2.0
    assert sd([1.0, 2.0, 6.0]) == pytest.approx(7**0.5) and sd([5.0]) == 0.0
    assert rates(64, [0.5, 0.25]) == [128.0, 256.0]
    assert in_ms([0.3], calls_per_sample=3) == pytest.approx([100.0])
