"""The one timing harness of ``edgecpm bench`` and ``benchmarks/``: warm-up calls that are not
counted, then ``reps`` timed calls, each clock read preceded by a device synchronize when CUDA is
in use (a GPU call returns before its kernels finish; without the sync the clock would time the
launch, not the work).

Standard library only (torch is imported lazily by ``cuda_sync``), so the llama.cpp peer, which
runs in a venv of its own without torch, times itself with the same code.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
Clock = Callable[[], float]
Hook = Callable[[], Any] | None


def time_calls(fn: Callable[[], Any], reps: int, warmup: int = 1, *, sync: Hook = None, setup: Hook = None,
               clock: Clock = time.perf_counter) -> list[float]:
    """Seconds of each of ``reps`` calls of ``fn`` after ``warmup`` uncounted ones.

    ``setup`` runs before every call (warm-up included), outside the clock: resetting a cache,
    flushing the CPU caches. ``sync`` runs before each clock read (``cuda_sync(device)``)."""
    if reps < 1 or warmup < 0:
        raise ValueError(f"time_calls: reps {reps} must be >= 1 and warmup {warmup} >= 0")
    samples = []
    for i in range(warmup + reps):
        if setup is not None:
            setup()
        if sync is not None:
            sync()
        start = clock()
        fn()
        if sync is not None:
            sync()
        elapsed = clock() - start
        if i >= warmup:
            samples.append(elapsed)
    return samples


def repeat_calls(fn: Callable[[], T], reps: int, warmup: int = 1, *, sync: Hook = None) -> list[T]:
    """The results of ``reps`` calls of ``fn`` after ``warmup`` uncounted ones, for workloads that
    time themselves (``generate``'s prefill / decode clocks, the native runner's stats line)."""
    if reps < 1 or warmup < 0:
        raise ValueError(f"repeat_calls: reps {reps} must be >= 1 and warmup {warmup} >= 0")
    results = []
    for i in range(warmup + reps):
        result = fn()
        if sync is not None:
            sync()
        if i >= warmup:
            results.append(result)
    return results


def cuda_sync(device: Any = None) -> Hook:
    """``torch.cuda.synchronize`` when ``device`` is a CUDA device (a ``torch.device``, a string
    such as ``"cuda:0"``, or None for "whichever is current, if CUDA is initialised"), else None."""
    import torch

    if device is None:
        return torch.cuda.synchronize if torch.cuda.is_available() and torch.cuda.is_initialized() else None
    return torch.cuda.synchronize if torch.device(device).type == "cuda" else None


def rates(work: float, seconds: list[float]) -> list[float]:
    """``work`` units per second for each sample (tokens/s from seconds per prefill or step)."""
    return [work / s for s in seconds]


def in_ms(seconds: list[float], calls_per_sample: int = 1) -> list[float]:
    """Milliseconds per call, for samples that each timed ``calls_per_sample`` calls."""
    return [1e3 * s / calls_per_sample for s in seconds]


def mean(samples: list[float]) -> float:
    return statistics.mean(samples)


def sd(samples: list[float]) -> float:
    """Sample standard deviation; 0 for a single sample (nothing to spread)."""
    return statistics.stdev(samples) if len(samples) > 1 else 0.0


def median(samples: list[float]) -> float:
    return statistics.median(samples)
