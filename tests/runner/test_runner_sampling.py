"""The runner's sampler (runtime_kernels/runner/sampler.h) draws from the distribution of Python's
runtime/sampling.py: its weights equal sampling_weights' after temperature, top-k and top-p, and
20000 seeded draws pass a chi-square test against those exact probabilities, while the same
counts fail it against a distribution whose filter is off by one (so the test can tell a wrong
filter). Fixed seeds make every run of the test the same. End to end, a seeded sampling run of
the runner reproduces itself, and top-k 1 gives the greedy tokens."""

from __future__ import annotations

import subprocess

import pytest
import torch

from edgecpm.runtime.sampling import SamplingConfig, sampling_weights
from tests.conftest import GREEDY_PROMPT, REPO
from tests.runner.test_runner import HOST_RUNNER, require, run_runner

SAMPLING_CHECK = REPO / "build" / "kernels" / "host" / "edgecpm_sampling_check"
DRAWS = 20000
P_FLOOR = 1e-4  # a correct sampler fails one case in 10^4 seeds; the fixed seed decides once


def logits() -> torch.Tensor:
    g = torch.Generator().manual_seed(3)
    return torch.randn(24, generator=g) * 2.0


def runner_draws(values: torch.Tensor, cfg: SamplingConfig, seed: int, tmp_path) -> tuple[list[float], list[int]]:
    path = tmp_path / "logits.txt"
    path.write_text(" ".join(f"{v:.9g}" for v in values.tolist()))
    res = subprocess.run([str(require(SAMPLING_CHECK, "kernels")), str(path), repr(cfg.temperature), repr(cfg.top_p),
                          str(cfg.top_k), str(seed), str(DRAWS)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    weights, counts = res.stdout.splitlines()
    return [float(w) for w in weights.split()], [int(c) for c in counts.split()]


def chi_square_p(counts: list[int], probs: torch.Tensor) -> float:
    """p-value of the counts under `probs`; a count where the probability is 0 gives p = 0."""
    total = sum(counts)
    stat, cells = 0.0, 0
    for count, p in zip(counts, probs.tolist()):
        if p == 0:
            if count:
                return 0.0
            continue
        expected = total * p
        stat += (count - expected) ** 2 / expected
        cells += 1
    if cells < 2:
        return 1.0
    # The chi-square survival function with `cells - 1` degrees of freedom: Q(df / 2, stat / 2).
    df = torch.tensor((cells - 1) / 2, dtype=torch.float64)
    return float(torch.special.gammaincc(df, torch.tensor(stat / 2, dtype=torch.float64)))


CASES = [
    SamplingConfig(temperature=1.0),
    SamplingConfig(temperature=0.6, top_k=5),
    SamplingConfig(temperature=1.4, top_p=0.8),
    SamplingConfig(temperature=0.9, top_k=8, top_p=0.7),
    SamplingConfig(temperature=2.0, top_p=0.3),
]


@pytest.mark.parametrize("cfg", CASES, ids=lambda c: f"t{c.temperature}-k{c.top_k}-p{c.top_p}")
def test_runner_sampler_draws_from_the_python_distribution(cfg, tmp_path):
    values = logits()
    probs = sampling_weights(values, cfg)
    probs = probs / probs.sum()
    weights, counts = runner_draws(values, cfg, seed=11, tmp_path=tmp_path)
    assert torch.allclose(torch.tensor(weights), probs, atol=1e-6)
    assert [w == 0 for w in weights] == (probs == 0).tolist()  # the same tokens filtered out
    assert sum(counts) == DRAWS
    assert chi_square_p(counts, probs) > P_FLOOR


@pytest.mark.parametrize("cfg,wrong", [
    (SamplingConfig(temperature=0.6, top_k=5), SamplingConfig(temperature=0.6, top_k=6)),
    (SamplingConfig(temperature=0.6, top_k=5), SamplingConfig(temperature=0.6, top_k=4)),
    (SamplingConfig(temperature=1.4, top_p=0.8), SamplingConfig(temperature=1.4, top_p=0.9)),
    (SamplingConfig(temperature=1.4, top_p=0.8), SamplingConfig(temperature=1.5, top_p=0.8)),
    (SamplingConfig(temperature=1.0), SamplingConfig(temperature=1.1)),
])
def test_the_chi_square_test_rejects_a_wrong_filter(cfg, wrong, tmp_path):
    values = logits()
    probs = sampling_weights(values, wrong)
    _, counts = runner_draws(values, cfg, seed=11, tmp_path=tmp_path)
    assert chi_square_p(counts, probs / probs.sum()) < P_FLOOR


def test_seeded_draws_repeat_and_seeds_differ(tmp_path):
    cfg = SamplingConfig(temperature=1.0)
    first = runner_draws(logits(), cfg, seed=5, tmp_path=tmp_path)[1]
    assert runner_draws(logits(), cfg, seed=5, tmp_path=tmp_path)[1] == first
    assert runner_draws(logits(), cfg, seed=6, tmp_path=tmp_path)[1] != first


@pytest.mark.slow
def test_runner_samples_reproducibly_and_top_k_1_is_greedy(tiny_bundles):
    _, bundle = tiny_bundles["float"]
    runner = [str(require(HOST_RUNNER, "kernels"))]
    _, greedy = run_runner(runner, bundle)
    _, top1 = run_runner([*runner, "--temperature", "0.8", "--top-k", "1", "--seed", "1"], bundle)
    assert top1["tokens"] == greedy["tokens"]
    sampled = [run_runner([*runner, "--temperature", "1.5", "--seed", str(s)], bundle)[1]["tokens"] for s in (1, 1, 2)]
    assert sampled[0] == sampled[1] and sampled[0] != sampled[2]
    assert sampled[0] != greedy["tokens"]
    assert greedy["prompt_tokens"] == len(GREEDY_PROMPT)
