"""The whole pricing at a real shape: random draft assets, the programs with the speculative
methods, the replay sweep per scheme, and the report (``benchmarks/speculative.py --shape``;
``edgecpm reproduce`` calls ``price_speculation`` too)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from edgecpm.bench_depth import prompt_ids
from edgecpm.bench_spec.assets import NOTE, random_draft, random_frspec, spec_program
from edgecpm.bench_spec.replay import DRAFTINGS, TARGETS, cost_table, speedup_at, speedup_table, sweep
from edgecpm.checkpoint.contents import load_config
from edgecpm.errors import UsageError

# The embedded tiny-draft's measured acceptance with the EAGLE-2 tree 2/10/12 on the tiny model
# (toolchain/edgecpm/speculative/README.md: 2.51 tokens per verify step on held-out prompts).
TINY_DRAFT_ACCEPTED = 2.5
TINY_DRAFT_DRAFTING = "tree 2/10/12"
# The programs' KV cache: one size, so one export serves every -n that fits.
MAX_SEQ_LEN = 512


def price_speculation(checkpoints: dict[str, Path], cache: Path, runner: Path, n_prompt: int = 64,
                      n_gen: int = 128, reps: int = 5, threads: int | None = None, frspec_size: int = 8192,
                      draft_quant: str = "int8", draftings=DRAFTINGS, targets=TARGETS,
                      say: Callable[[str], None] = lambda _m: None) -> list[str]:
    """Markdown lines: per scheme (``checkpoints``: name -> checkpoint dir), the speedup against
    mean accepted length and the per-call cost table. Programs and assets are cached in ``cache``."""
    first = next(iter(checkpoints.values()))
    cfg = load_config(first)
    draft = random_draft(first, cache / "random-draft")
    frspec = random_frspec(cfg.vocab_size, frspec_size, cache / f"random-frspec-{frspec_size // 1024}k.safetensors",
                           tuple(cfg.eos_token_id))
    if n_prompt + n_gen + 32 > MAX_SEQ_LEN:   # + drafting headroom (a 2/10/12 tree: 21 slots)
        raise UsageError(f"prompt {n_prompt} + {n_gen} tokens + 32 drafting slots exceed the programs' "
                         f"{MAX_SEQ_LEN}-token cache; generate fewer tokens")
    prompt = prompt_ids(cfg.vocab_size, n_prompt, 0)
    load_before = os.getloadavg()
    lines = [f"Random weights ({NOTE}). Draft head: one decoder layer of the base's shape "
             f"(hidden {cfg.hidden_size}, {cfg.num_attention_heads} heads / {cfg.num_key_value_heads} KV, "
             f"intermediate {cfg.intermediate_size}), its linears {draft_quant}; FR-Spec {frspec_size} random ids. "
             f"Prompt {n_prompt} random ids, {n_gen} greedy tokens, {reps} interleaved repetitions (medians), "
             f"runner threads {threads or 'default (one per core)'}. Speedup: the speculative run's decode tok/s "
             "over the plain run's (forward_last), both in the same runner process.", ""]
    for scheme, ckpt in checkpoints.items():
        bundle = spec_program(ckpt, draft, frspec, draft_quant,
                              cache / f"{scheme}-spec-fr{frspec_size // 1024}k-{draft_quant}-pte", MAX_SEQ_LEN, say)
        points, costs = sweep(runner, bundle, prompt, n_gen, draftings, targets, reps, threads, say=say)
        lines += [f"### {scheme}", "", *speedup_table(points), ""]
        placed = {d.name: speedup_at(points, d.name, TINY_DRAFT_ACCEPTED) for d in draftings}
        reached = ", ".join(f"{name} **{x:.2f}x**" for name, x in placed.items() if x is not None)
        missed = ", ".join(name for name, x in placed.items() if x is None)
        lines += [f"At {TINY_DRAFT_ACCEPTED} accepted tokens per step (the embedded tiny-draft's acceptance "
                  f"with {TINY_DRAFT_DRAFTING} on the tiny model; not measured at this shape), a draft of this "
                  f"shape would give, interpolated on the measured curves: {reached or 'none reached'}"
                  + (f"; outside the measured range of {missed} (a tree's depth is the random draft's "
                     "own; one target alone spans no range)" if missed else "")
                  + ".", ""]
        lines += ["Per-call cost, mean over every call of the sweep (timed in the runner around each "
                  "method's execute and the copy of its outputs):", "", *cost_table(costs), ""]
    load_after = os.getloadavg()
    lines.append(f"Load average before / after: {load_before[0]:.2f} / {load_after[0]:.2f}.")
    return lines
