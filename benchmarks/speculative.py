"""Speculative decoding on the embedded tiny model: acceptance, speedup over plain decoding, and the
draft LM head's cost with FR-Spec vs the full vocabulary, side by side in one run (eager PyTorch).

Not a test: it prints markdown tables. Shared machines are noisy; read the ratios, run it twice.

    .venv/bin/python benchmarks/speculative.py                    # tiny + tiny-draft, 20 held-out prompts
    .venv/bin/python benchmarks/speculative.py --prompts 5 -n 32  # quicker
    .venv/bin/python benchmarks/speculative.py --model DIR --draft DRAFT_DIR --frspec FILE

Prompts: evenly spaced 32-token windows of the embedded corpus's held-out split (never trained
on, by the base or the draft). Every configuration decodes the same prompts greedily; the table
says whether its tokens equal plain decoding's (they must). tok/s counts generated tokens over
prefill + decode wall time. The FR-Spec list (default: the 25% most frequent ids of the training
split, EOS kept) is built in-process unless --frspec gives one.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import torch

from edgecpm.checkpoint.loader import load_config, load_model
from edgecpm.checkpoint.locate import resolve_model
from edgecpm.generate import generate
from edgecpm.speculative.decode import speculative_generate
from edgecpm.speculative.draft import load_draft, resolve_draft
from edgecpm.speculative.frspec import head_cost, load_frspec, top_ids
from edgecpm.speculative.train import held_out_prompts
from edgecpm.speculative.tree import SpecConfig
from edgecpm.tiny.corpus import split_text, stdlib_documents
from edgecpm.tokenizer.tokenizer import load_tokenizer


def run_plain(model, prompts, n, eos):
    out, t = [], 0.0
    for p in prompts:
        r = generate(model, p, n, eos_ids=eos)
        out.append(r.tokens)
        t += r.prefill_s + r.decode_s
    return out, t


def run_spec(model, draft, prompts, n, eos, spec):
    out, t, steps, emitted, draft_s, verify_s = [], 0.0, 0, 0, 0.0, 0.0
    for p in prompts:
        r = speculative_generate(model, draft, p, n, spec=spec, eos_ids=eos)
        out.append(r.tokens)
        t += r.prefill_s + r.decode_s
        steps += r.verify_steps
        emitted += sum(r.accepted_per_step)
        draft_s += r.draft_s
        verify_s += r.verify_s
    return out, t, emitted / steps, draft_s / (draft_s + verify_s)


def best_time(fn, reps: int) -> float:
    fn()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--draft", default="tiny-draft")
    ap.add_argument("--frspec", default=None, help="FR-Spec file (default: built from the training split)")
    ap.add_argument("--frspec-size", type=int, default=None, help="default: a quarter of the vocabulary")
    ap.add_argument("--prompts", type=int, default=20)
    ap.add_argument("-n", type=int, default=64, help="tokens generated per prompt")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=200, help="LM-head timing repetitions")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    model_dir = resolve_model(args.model)
    cfg = load_config(model_dir)
    tok = load_tokenizer(model_dir, cfg.bos_token_id, cfg.eos_token_id)
    model = load_model(model_dir, dtype=torch.float32, max_seq_len=256)
    draft = load_draft(resolve_draft(args.draft), cfg).bind(model)
    train_text, held_text = split_text(stdlib_documents())
    prompts = held_out_prompts(tok.encode(held_text), args.prompts, 32, cfg.bos_token_id)
    if args.frspec:
        fr = load_frspec(args.frspec, cfg.vocab_size)
    else:
        size = args.frspec_size or cfg.vocab_size // 4
        fr = top_ids(Counter(tok.encode(train_text)), size, cfg.vocab_size, cfg.eos_token_id)
    eos = cfg.eos_token_id

    print(f"model {args.model} ({cfg.num_parameters / 1e6:.1f}M params, vocab {cfg.vocab_size}), draft "
          f"{args.draft}, {len(prompts)} held-out prompts x {args.n} greedy tokens, {args.threads} thread(s), "
          f"torch {torch.__version__}\n")
    ref, t_plain = run_plain(model, prompts, args.n, eos)
    n_tok = sum(len(r) for r in ref)
    rows = [("plain greedy", "-", 1.0, 0.0, n_tok / t_plain, 1.0, "-")]
    configs = [("chain 3", SpecConfig(mode="chain", chain_len=3), None),
               ("tree 2/10/12", SpecConfig(), None),
               ("tree 3/4/16", SpecConfig(num_iter=3, topk_per_iter=4, tree_size=16), None),
               (f"tree 2/10/12 + FR-Spec {fr.ids.numel()}", SpecConfig(), fr.ids),
               (f"chain 3 + FR-Spec {fr.ids.numel()}", SpecConfig(mode="chain", chain_len=3), fr.ids)]
    for name, spec, ids in configs:
        draft.set_vocab(ids)
        out, t, mean_acc, share = run_spec(model, draft, prompts, args.n, eos, spec)
        same = "yes" if out == ref else "NO"
        rows.append((name, same, mean_acc, share, n_tok / t, t_plain / t, f"{100 * fr.coverage:.1f}%" if ids is not None else "-"))
    draft.set_vocab(None)
    print("| decoding | same tokens as plain | mean accepted tok/step | draft time share | tok/s | speedup | FR-Spec corpus coverage |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, same, acc, share, tps, sp, cov in rows:
        print(f"| {name} | {same} | {acc:.2f} | {100 * share:.0f}% | {tps:.1f} | {sp:.2f}x | {cov} |")

    # The draft LM head alone: one row (chain step) and ten rows (a tree expansion).
    h = cfg.hidden_size
    print(f"\nDraft LM head, hidden {h}: full vocabulary {cfg.vocab_size} rows vs FR-Spec {fr.ids.numel()} rows "
          f"(best of {args.reps})\n")
    print("| rows in | head | FLOPs | time (us) | vs full |")
    print("| --- | --- | --- | --- | --- |")
    with torch.no_grad():
        for t_rows in (1, 10):
            x = torch.randn(t_rows, h)
            times = {}
            for label, ids in (("full", None), ("FR-Spec", fr.ids)):
                draft.set_vocab(ids)
                times[label] = best_time(lambda: draft.logits(x), args.reps)
                rows_n = cfg.vocab_size if ids is None else ids.numel()
                flops = t_rows * head_cost(h, rows_n)
                ratio = times[label] / times["full"]
                print(f"| {t_rows} | {label} ({rows_n}) | {flops / 1e6:.2f} M | {times[label] * 1e6:.0f} | {ratio:.2f}x |")
    draft.set_vocab(None)


if __name__ == "__main__":
    main()
