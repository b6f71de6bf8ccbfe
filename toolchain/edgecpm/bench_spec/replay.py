"""Speedup against mean accepted length, priced with the native runner's replay draft.

Each run of ``edgecpm-runner --replay-accept A`` decodes plainly (``forward_last``, the baseline)
and then speculatively with the program's real ``verify``/``draft`` calls, the draft's tokens
replaced by the plain run's at rate ``A`` (runtime_kernels/runner/spec_replay.h); both in one
process, so a speedup is two timings taken seconds apart on the same machine state. The tokens
should be the plain run's (verification is real); a run where they are not (verify's arithmetic
deciding a near-tie otherwise than forward's) is kept and marked in the table. Rates are decode
rates (tokens after the first over the time after prefill), as ``edgecpm bench`` reports them.

Runs are interleaved (every configuration and target once per repetition) and summarised by
medians. The same runs give the per-call cost table: each method's mean wall time per call by
its row count T, beside the plain run's one-token ``forward_last``.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from edgecpm.bench import runner_stats
from edgecpm.errors import UsageError


@dataclass(frozen=True)
class Drafting:
    """A drafting shape: a chain of ``chain_len`` or an EAGLE-2 tree ``num_iter/topk/size``."""

    name: str
    flags: tuple[str, ...]
    depth: int   # drafted tokens on the longest path: a step accepts at most depth + 1

    @classmethod
    def chain(cls, n: int) -> "Drafting":
        return cls(f"chain {n}", ("--spec", "chain", "--chain-len", str(n)), n)

    @classmethod
    def tree(cls, num_iter: int, topk: int, size: int) -> "Drafting":
        return cls(f"tree {num_iter}/{topk}/{size}", ("--spec", "tree", "--tree", f"{num_iter}/{topk}/{size}"),
                   min(num_iter + 1, size - 1))


DRAFTINGS = (Drafting.chain(1), Drafting.chain(2), Drafting.chain(3), Drafting.chain(4), Drafting.tree(2, 10, 12))
TARGETS = (1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0)


def chain_mean(accept: float, depth: int) -> float:
    """Mean tokens per step of a chain of ``depth`` whose tokens each pass with ``accept``:
    sum_{k=0..depth} accept^k = (1 - a^(depth+1)) / (1 - a)."""
    return sum(accept ** k for k in range(depth + 1))


def accept_for(mean: float, depth: int) -> float:
    """The per-token rate giving a chain of ``depth`` a mean of ``mean`` tokens per step."""
    if not 1.0 <= mean <= depth + 1:
        raise UsageError(f"mean accepted length {mean}: a chain of {depth} gives 1 to {depth + 1} tokens per step")
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if chain_mean(mid, depth) < mean else (lo, mid)
    return (lo + hi) / 2


@dataclass
class Point:
    """One (drafting, target) cell over its repetitions."""

    drafting: str
    target: float
    accept: float
    plain_tok_s: list[float] = field(default_factory=list)
    spec_tok_s: list[float] = field(default_factory=list)
    accepted: list[float] = field(default_factory=list)
    differ_from: list[int] = field(default_factory=list)   # runs whose tokens differ: first index

    @property
    def speedup(self) -> float:
        return statistics.median(s / p for s, p in zip(self.spec_tok_s, self.plain_tok_s))


@dataclass
class CallCosts:
    """Total wall time and calls per (method, T), over every run of a sweep."""

    forward_ms: list[float] = field(default_factory=list)   # each run's mean one-token forward
    calls: dict[tuple[str, int], list[float]] = field(default_factory=dict)  # -> [calls, total ms]

    def add(self, stats: dict) -> None:
        self.forward_ms.append(stats["plain_forward_ms"])
        for method in ("verify", "verify_in_place", "draft"):
            for rows, (calls, ms) in stats.get(f"{method}_calls", {}).items():
                entry = self.calls.setdefault((method, int(rows)), [0, 0.0])
                entry[0] += calls
                entry[1] += ms

    def per_call_ms(self, method: str, rows: int) -> float | None:
        entry = self.calls.get((method, rows))
        return entry[1] / entry[0] if entry else None


def sweep(runner: Path, bundle: Path, prompt: list[int], n_gen: int, draftings=DRAFTINGS, targets=TARGETS,
          reps: int = 5, threads: int | None = None, seed: int = 0,
          say: Callable[[str], None] = lambda _m: None) -> tuple[list[Point], CallCosts]:
    """Every (drafting, target) with target <= depth + 1, ``reps`` times, interleaved."""
    cells = [Point(d.name, t, accept_for(t, d.depth)) for d in draftings for t in targets if t <= d.depth + 1]
    flags = {d.name: d.flags for d in draftings}
    costs = CallCosts()
    for rep in range(reps):
        say(f"{bundle.name}: repetition {rep + 1}/{reps} ({len(cells)} runs)")
        for cell in cells:
            stats = runner_stats(runner, bundle, prompt, n_gen, [*flags[cell.drafting], "--replay-accept",
                                                                  f"{cell.accept:.9f}", "--seed", str(seed + rep),
                                                                  "--no-verify"], threads)
            cell.plain_tok_s.append(stats["plain_decode_tok_s"])
            cell.spec_tok_s.append(stats["decode_tok_s"])
            cell.accepted.append(stats["mean_accepted"])
            if not stats["replay_tokens_equal"]:
                cell.differ_from.append(stats["replay_first_difference"])
            costs.add(stats)
    return cells, costs


def speedup_at(points: list[Point], drafting: str, mean: float) -> float | None:
    """The speedup a drafting would give at ``mean`` accepted tokens per step: linear between the
    two measured points around it (by measured mean), None outside the measured range."""
    xs = sorted((statistics.median(p.accepted), p.speedup) for p in points if p.drafting == drafting)
    for (x0, y0), (x1, y1) in zip(xs, xs[1:]):
        if x0 <= mean <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (mean - x0) / (x1 - x0)
    return None


def speedup_table(points: list[Point]) -> list[str]:
    """Markdown: one row per (drafting, target)."""
    lines = ["| drafting | target tok/step | per-token accept | measured tok/step | plain tok/s | spec tok/s "
             "| speedup | tokens = plain |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for p in points:
        same = "yes" if not p.differ_from else (f"NO in {len(p.differ_from)}/{len(p.accepted)} runs "
                                                 f"(from token {min(p.differ_from)})")
        lines.append(f"| {p.drafting} | {p.target:.1f} | {p.accept:.3f} | {statistics.median(p.accepted):.2f} | "
                     f"{statistics.median(p.plain_tok_s):.1f} | {statistics.median(p.spec_tok_s):.1f} | "
                     f"{p.speedup:.2f}x | {same} |")
    return lines


def cost_table(costs: CallCosts) -> list[str]:
    """Markdown: ms per call of each method by T, and as a multiple of one plain forward."""
    fwd = statistics.median(costs.forward_ms)
    rows = sorted({t for _m, t in costs.calls})
    lines = [f"one-token forward_last (plain decode): {fwd:.2f} ms", "",
             "| T | verify_in_place(T) ms | x forward | verify(T) with moves ms | x forward | draft(T) ms "
             "| x forward |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for t in rows:
        cells = []
        for method in ("verify_in_place", "verify", "draft"):
            ms = costs.per_call_ms(method, t)
            cells += ["", ""] if ms is None else [f"{ms:.2f}", f"{ms / fwd:.2f}"]
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    return lines
