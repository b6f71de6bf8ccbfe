"""FR-Spec in speculative decoding: the tiny model's draft head with the full vocabulary (plain
EAGLE-2 drafting) and with the FR-Spec subset, on the same held-out prompts, greedy.

The two runs must give the same tokens (the verifier keeps the full vocabulary); the claim is
about speed: tokens per second over prefill + decode time, FR-Spec over full. Acceptance length
(tokens per verify step) is reported beside it, since a subset that drops tokens the base wants
would lower it.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgecpm.reproduce.claims import ratio


@dataclass
class DecodeTotals:
    """All prompts of one configuration: what was generated, in how long, in how many verify steps."""

    outputs: list[list[int]]
    seconds: float
    verify_steps: int
    emitted: int   # tokens emitted by the verify steps (accepted draft tokens + the base's own)

    @property
    def tok_s(self) -> float:
        return ratio(sum(map(len, self.outputs)), self.seconds)

    @property
    def mean_accepted(self) -> float:
        return ratio(self.emitted, self.verify_steps)


def totals(results) -> DecodeTotals:
    """Sum ``SpecResult``-like records (tokens, prefill_s, decode_s, verify_steps, accepted_per_step)."""
    return DecodeTotals([r.tokens for r in results], sum(r.prefill_s + r.decode_s for r in results),
                        sum(r.verify_steps for r in results), sum(sum(r.accepted_per_step) for r in results))


def merged(repeats: list[DecodeTotals]) -> DecodeTotals:
    """Repeated runs of the same prompts as one: outputs, times and steps of all of them."""
    return DecodeTotals([o for r in repeats for o in r.outputs], sum(r.seconds for r in repeats),
                        sum(r.verify_steps for r in repeats), sum(r.emitted for r in repeats))


def speculative_totals(base, draft, prompts: list[list[int]], n: int, spec, eos: list[int]) -> DecodeTotals:
    from edgecpm.runtime.eager import EagerBase
    from edgecpm.speculative.decode import speculative_generate

    return totals([speculative_generate(EagerBase(base), draft, p, n, spec=spec, eos_ids=eos) for p in prompts])


def tiny_draft_comparison(prompts_count: int, n: int, threads: int = 1) -> dict:
    """The embedded ``tiny`` model with ``tiny-draft`` (tree 2/10/12, MiniCPM4's default), with
    and without an FR-Spec list of a quarter of the vocabulary counted on the training split.

    ``threads``: torch's; one by default, since a model this small gains nothing from more and on
    a loaded machine torch's OpenMP barriers can make two threads many times slower than one."""
    from collections import Counter

    import torch

    from edgecpm.bench import thread_count
    from edgecpm.checkpoint.contents import load_config
    from edgecpm.checkpoint.loader import load_model
    from edgecpm.checkpoint.locate import resolve_model
    from edgecpm.speculative.draft import load_draft, resolve_draft
    from edgecpm.speculative.frspec import top_ids
    from edgecpm.speculative.train import held_out_prompts
    from edgecpm.speculative.tree import SpecConfig
    from edgecpm.tiny.corpus import split_text, stdlib_documents
    from edgecpm.tokenizer.tokenizer import load_tokenizer

    model_dir = resolve_model("tiny")
    cfg = load_config(model_dir)
    tok = load_tokenizer(model_dir, cfg.bos_token_id, cfg.eos_token_id)
    model = load_model(model_dir, dtype=torch.float32, max_seq_len=256)
    draft = load_draft(resolve_draft("tiny-draft"), cfg).bind(model)
    train_text, held_text = split_text(stdlib_documents())
    prompts = held_out_prompts(tok.encode(held_text), prompts_count, 32, cfg.bos_token_id)
    fr = top_ids(Counter(tok.encode(train_text)), cfg.vocab_size // 4, cfg.vocab_size, cfg.eos_token_id)
    spec = SpecConfig()
    sides = (("full", None), ("frspec", fr.ids))
    parts: dict[str, list[DecodeTotals]] = {"full": [], "frspec": []}
    with torch.no_grad(), thread_count(threads):
        # One untimed run of each side first (first calls pay one-time costs), then the two sides
        # interleaved twice, so a burst of load on a shared machine falls on both rather than one.
        for _, ids in sides:
            draft.set_vocab(ids)
            speculative_totals(model, draft, prompts[:1], 4, spec, cfg.eos_token_id)
        for _ in range(2):
            for label, ids in sides:
                draft.set_vocab(ids)
                parts[label].append(speculative_totals(model, draft, prompts, n, spec, cfg.eos_token_id))
        draft.set_vocab(None)
    runs = {label: merged(p) for label, p in parts.items()}
    return {"runs": runs, "frspec_size": int(fr.ids.numel()), "vocab_size": cfg.vocab_size,
            "prompts": len(prompts), "n": n, "threads": threads,
            "identical": runs["full"].outputs == runs["frspec"].outputs}
