"""Speculative decoding's speedup over plain decoding at MiniCPM4-0.5B shapes, priced with the
native runner's replay draft (``edgecpm.bench_spec``), measured once per run and shared by the
``frspec`` and ``edge`` experiments.

The program is the ternary 0.5B-shape checkpoint with a random draft head of the real EAGLE shape
(int8 linears) and a random 8K FR-Spec list, as ``python -m benchmarks.speculative --shape
minicpm4-0.5b`` exports and caches it (minutes: made apart from this command, like the other
0.5B artifacts). Each run decodes plainly and then speculatively in one runner process; the replay
draft is set to the embedded tiny-draft's acceptance (2.5 tokens per step), chains of 2 and 3.
The replay prices the mechanism only: it says nothing of a real 0.5B draft's acceptance.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from edgecpm.bench_spec.shape import TINY_DRAFT_ACCEPTED

SPEC_CACHE = Path("build/bench-spec/minicpm4-0.5b")   # benchmarks.speculative --shape's cache
BUNDLE = "ternary-spec-fr8k-int8-pte"
MAKE = "python -m benchmarks.speculative --shape minicpm4-0.5b --schemes ternary --shape-reps 1 --targets 2.5"
N_PROMPT = 64


@dataclass
class SpecSpeedup:
    speedup: float | None      # the best drafting's median speedup; None: not measured
    drafting: str = ""
    accepted: float = 0.0      # measured tokens per verify step (median)
    identical: bool = True     # every speculative run gave the plain run's tokens
    missing: str = ""          # why not measured
    runs: int = 0

    def describe(self) -> str:
        same = "" if self.identical else ", SOME RUNS' TOKENS DIFFER FROM PLAIN"
        return f"{self.speedup:.2f}× ({self.drafting}, {self.accepted:.2f} tokens/step measured{same})"


_MEASURED: dict[tuple, SpecSpeedup] = {}


def measure(cache: Path = SPEC_CACHE, quick: bool = False) -> SpecSpeedup:
    """The speedup at the tiny-draft's acceptance; measured on the first call, reused after."""
    key = (str(cache), quick)
    if key not in _MEASURED:
        _MEASURED[key] = _measure(cache, quick)
    return _MEASURED[key]


def best_point(points) -> SpecSpeedup:
    """The drafting with the highest median speedup among ``bench_spec.replay.Point``s."""
    best = max(points, key=lambda p: p.speedup)
    return SpecSpeedup(best.speedup, best.drafting, statistics.median(best.accepted),
                       identical=not any(p.differ_from for p in points),
                       runs=sum(len(p.spec_tok_s) for p in points))


def _measure(cache: Path, quick: bool) -> SpecSpeedup:
    import json

    from edgecpm.bench_depth import prompt_ids
    from edgecpm.bench_spec.replay import Drafting, sweep
    from edgecpm.errors import EdgecpmError
    from edgecpm.export.targets import load_target

    bundle = cache / BUNDLE
    if not (bundle / "model.pte").is_file():
        return SpecSpeedup(None, missing=f"no {bundle} (make it with `{MAKE}`)")
    runner = load_target("host").kernel_dir / "edgecpm-runner"
    if not runner.is_file():
        return SpecSpeedup(None, missing=f"{runner} is not built (`make kernels`)")
    vocab = json.loads((bundle / "manifest.json").read_text())["config"]["vocab_size"]
    try:
        points, _ = sweep(runner, bundle, prompt_ids(vocab, N_PROMPT, 0), 32 if quick else 64,
                          draftings=(Drafting.chain(2), Drafting.chain(3)), targets=(TINY_DRAFT_ACCEPTED,),
                          reps=1 if quick else 3)
    except EdgecpmError as e:   # a broken bundle or runner: the row says so, the others still run
        return SpecSpeedup(None, missing=str(e))
    return best_point(points)
