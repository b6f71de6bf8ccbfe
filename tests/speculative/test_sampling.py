"""Sampled speculative output has the base model's distribution (rejection sampling is lossless).

The case: a random base model over an 8-token vocabulary; the joint distribution of the first
two generated tokens (64 cells) is computed exactly from the base model, and N speculative
samples are tested against it with Pearson's chi-square (cells with an expected count below 5
pooled). The seed is fixed, so the test is deterministic; the threshold p > 1e-3 means that a
correct sampler fails it for one seed in a thousand, while a sampler that returns the draft's
distribution (or skips the residual step) is off by tens of percent in several cells (measured:
a sampler that always accepts the chain's proposals gives p = 1.8e-64 on the random-draft case). Drafts: a random draft (most proposals rejected: the
residual distribution matters) and a near-oracle one (most accepted), chain (sampled proposals)
and tree (deterministic top-k children, point-mass proposals).
"""

from __future__ import annotations

import math

import pytest
import torch

from edgecpm.runtime.eager import EagerBase
from edgecpm.runtime.sampling import SamplingConfig
from edgecpm.speculative.decode import speculative_generate, target_probs
from edgecpm.speculative.tree import SpecConfig
from tests.speculative.helpers import oracle_pair, random_base, random_draft

VOCAB = 8
PROMPT = [3, 5, 1]
SAMPLING = SamplingConfig(temperature=0.9, top_p=0.95)


def exact_joint(base) -> torch.Tensor:
    """P(t1, t2) under plain sampling with SAMPLING, [VOCAB, VOCAB]."""
    with torch.no_grad():
        base.reset_caches()
        p1 = target_probs(base(torch.tensor([PROMPT]))[0, -1], SAMPLING)
        seqs = torch.tensor([PROMPT + [t] for t in range(VOCAB)])
        rows = torch.stack([target_probs(base(seqs[t:t + 1])[0, -1], SAMPLING) for t in range(VOCAB)])
    return p1.unsqueeze(1) * rows


def chi_square_p(counts: torch.Tensor, probs: torch.Tensor, n: int) -> float:
    expected = probs.flatten() * n
    observed = counts.flatten().double()
    big = expected >= 5
    e = torch.cat([expected[big], expected[~big].sum().view(1)])
    o = torch.cat([observed[big], observed[~big].sum().view(1)])
    keep = e > 0
    stat = float(((o[keep] - e[keep]) ** 2 / e[keep]).sum())
    dof = int(keep.sum()) - 1
    # Wilson–Hilferty: chi-square upper tail through a normal, accurate to ~1e-3 here.
    z = ((stat / dof) ** (1 / 3) - (1 - 2 / (9 * dof))) / math.sqrt(2 / (9 * dof))
    return 0.5 * math.erfc(z / math.sqrt(2))


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["chain", "tree"])
@pytest.mark.parametrize("drafter", ["random", "oracle"])
def test_sampled_output_matches_base_distribution(mode, drafter):
    if drafter == "oracle":
        base, draft = oracle_pair(vocab=VOCAB, max_seq_len=32)
    else:
        base = random_base(layers=2, vocab=VOCAB, std=0.5, max_seq_len=32)
        draft = random_draft(base)
    spec = SpecConfig(mode=mode, chain_len=2, num_iter=1, topk_per_iter=3, tree_size=6)
    n = 1500
    counts = torch.zeros(VOCAB, VOCAB, dtype=torch.long)
    accepted = 0
    gen = torch.Generator().manual_seed(1234)   # one generator: n independent runs
    for _ in range(n):
        out = speculative_generate(EagerBase(base), draft, PROMPT, 2, SAMPLING, spec, generator=gen)
        counts[out.tokens[0], out.tokens[1]] += 1
        accepted += out.accepted_per_step[0] > 1
    p = chi_square_p(counts, exact_joint(base), n)
    assert p > 1e-3, f"chi-square p = {p:.2e}"
    assert accepted > n // 10   # the draft's proposals were really tested, not all rejected
