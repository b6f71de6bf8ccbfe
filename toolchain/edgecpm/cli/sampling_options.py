"""``generate``'s sampling options → a SamplingConfig, each within its bounds. At temperature 0
decoding is greedy, and ``--top-k``/``--top-p`` would change nothing: refused, not ignored."""

from __future__ import annotations

import typer

from edgecpm.cli.bounds import check_range, refuse_unless


def sampling_config(temperature: float, top_p: float | None, top_k: int | None, seed: int | None):
    from edgecpm.runtime.sampling import SamplingConfig

    check_range("--temperature", temperature, 0.0)
    refuse_unless(temperature > 0, {"--top-p": top_p, "--top-k": top_k},
                  "only when sampling (--temperature > 0); at 0 decoding is greedy")
    check_range("--top-p", top_p, 0.0, 1.0)
    if top_p == 0.0:
        raise typer.BadParameter("--top-p 0.0: must be above 0 (it is the probability mass kept)")
    check_range("--top-k", top_k, 0)
    check_range("--seed", seed, 0, 2**63 - 1)  # torch.Generator.manual_seed's range
    return SamplingConfig(temperature=temperature, top_p=1.0 if top_p is None else top_p, top_k=top_k or 0,
                          seed=seed)
