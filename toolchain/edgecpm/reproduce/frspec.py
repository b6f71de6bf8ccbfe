"""FR-Spec's claims (MINICPM4.md §6), re-measured: vocabulary coverage with the real MiniCPM4
tokenizer, the draft LM head's FLOPs and time with the subset, and what it does to speculative
decoding speed.

Coverage: the stdlib-docstring corpus (``edgecpm.tiny.corpus``, training split) tokenized by the
real 73448-token tokenizer; the share of its tokens whose id is among the N most frequent (EOS
kept in, as in an FR-Spec file). Head: one draft row (hidden 1024, MiniCPM4-0.5B's) against the
full 73448-row head and the N-row subset, fp32, on random weights (the cost does not depend on
the values).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from edgecpm.reproduce.claims import Claim, ExperimentResult, not_measured, ratio, share_saved
from edgecpm.reproduce import speculation_05b
from edgecpm.reproduce.frspec_decode import tiny_draft_comparison

SIZES = (8192, 16384, 32768)
HIDDEN_05B = 1024
PAPER_SIZE_SHARE = 0.25   # "~25% of the vocabulary covers ~95% of tokens"
PAPER_COVERAGE = 95.0
PAPER_HEAD_SAVED = 75.0
PAPER_SPEEDUP = 1.12
PAPER_ACCEPTANCE = 2.50


def coverage_by_size(counts: Counter, sizes: tuple[int, ...], vocab_size: int, keep: list[int]) -> dict[int, float]:
    """Share of the counted tokens covered by the ``size`` most frequent ids (``keep`` forced in)."""
    from edgecpm.speculative.frspec import top_ids

    return {size: top_ids(counts, size, vocab_size, keep).coverage for size in sizes}


def head_flops_saved(hidden: int, vocab_size: int, rows: int) -> float:
    """The draft LM head's FLOP saving with ``rows`` of ``vocab_size`` rows (1 - rows / vocab)."""
    from edgecpm.speculative.frspec import head_cost

    return share_saved(head_cost(hidden, vocab_size), head_cost(hidden, rows))


def head_time_saved(full_s: list[float], subset_s: list[float]) -> float:
    """Measured saving from the best call of each (the least disturbed one on a shared machine)."""
    return share_saved(min(full_s), min(subset_s))


def time_heads(hidden: int, vocab_size: int, rows: int, reps: int) -> tuple[list[float], list[float]]:
    """Seconds per call of one row through the full head and through ``rows`` of its rows."""
    import torch

    from edgecpm.bench import thread_count
    from edgecpm.bench_timing import time_calls

    g = torch.Generator().manual_seed(0)
    full = torch.randn(vocab_size, hidden, generator=g)
    subset = full[:rows].contiguous()
    x = torch.randn(1, hidden, generator=g)
    with torch.no_grad(), thread_count(1):
        f = torch.nn.functional.linear
        return time_calls(lambda: f(x, full), reps), time_calls(lambda: f(x, subset), reps)


def tokenizer_counts(tokenizer_dir: Path) -> tuple[Counter, int, list[int]]:
    from edgecpm.checkpoint.contents import load_config
    from edgecpm.tiny.corpus import split_text, stdlib_documents
    from edgecpm.tokenizer.tokenizer import load_tokenizer

    cfg = load_config(tokenizer_dir)
    tok = load_tokenizer(tokenizer_dir, cfg.bos_token_id, cfg.eos_token_id)
    train_text, _ = split_text(stdlib_documents())
    return Counter(tok.encode(train_text)), cfg.vocab_size, list(cfg.eos_token_id)


def coverage_claims(counts: Counter, vocab_size: int, keep: list[int]) -> list[Claim]:
    quarter = round(PAPER_SIZE_SHARE * vocab_size)
    cov = coverage_by_size(counts, (*SIZES, quarter), vocab_size, keep)
    scale = f"stdlib docstrings, {sum(counts.values()) / 1e3:.0f}K tokens (English + code)"
    rows = [Claim(f"top {size // 1024}K ids ({100 * size / vocab_size:.0f}% of vocab) cover", "—",
                  f"{100 * cov[size]:.1f}%", "share of corpus tokens", scale, ours_value=100 * cov[size])
            for size in SIZES]
    rows.append(Claim(f"top 25% of vocab ({quarter} ids) covers", f"~{PAPER_COVERAGE:.0f}%",
                      f"{100 * cov[quarter]:.1f}%",
                      "share of corpus tokens", scale, PAPER_COVERAGE, 100 * cov[quarter]))
    return rows


def head_claims(vocab_size: int, reps: int) -> tuple[list[Claim], dict]:
    quarter = round(PAPER_SIZE_SHARE * vocab_size)
    flops = head_flops_saved(HIDDEN_05B, vocab_size, quarter)
    full_s, sub_s = time_heads(HIDDEN_05B, vocab_size, quarter, reps)
    timed = head_time_saved(full_s, sub_s)
    scale = f"hidden {HIDDEN_05B} (0.5B), 1 row, fp32 torch 1 thread, {quarter} of {vocab_size} rows"
    claims = [Claim("draft LM-head FLOPs with 25% of vocab", f"−{PAPER_HEAD_SAVED:.0f}%", f"−{100 * flops:.1f}%",
                    "FLOPs saved", scale, PAPER_HEAD_SAVED, 100 * flops),
              Claim("draft LM-head time with 25% of vocab", f"−{PAPER_HEAD_SAVED:.0f}%", f"−{100 * timed:.1f}%",
                    "time saved (best call)", scale + f", best of {reps}", PAPER_HEAD_SAVED, 100 * timed)]
    return claims, {"head_full_s": full_s, "head_subset_s": sub_s}


def decode_claims(prompts: int, n: int, quick: bool = False) -> tuple[list[Claim], dict]:
    r = tiny_draft_comparison(prompts, n)
    full, fr = r["runs"]["full"], r["runs"]["frspec"]
    speedup = ratio(fr.tok_s, full.tok_s)
    scale = (f"tiny model (vocab {r['vocab_size']}, FR {r['frspec_size']}), {r['prompts']} held-out prompts x "
             f"{n} tokens, tree 2/10/12, eager, {r['threads']} thread(s)")
    same = "" if r["identical"] else " (TOKENS DIFFER FROM FULL-VOCAB RUN)"
    claims = [Claim("spec decode speed, FR-Spec over EAGLE-2 (full vocab)", f"{PAPER_SPEEDUP}× (average)",
                    f"{speedup:.2f}×{same}", "tok/s ratio", scale, PAPER_SPEEDUP, speedup),
              Claim("acceptance length with FR-Spec", f"{PAPER_ACCEPTANCE:.2f} (CPM.cu, 8B, 107K-token prompt)",
                    f"{fr.mean_accepted:.2f} (full vocab {full.mean_accepted:.2f})", "tokens per verify step",
                    scale, PAPER_ACCEPTANCE, fr.mean_accepted)]
    spec = speculation_05b.measure(quick=quick)
    name, metric = "spec decode speedup at 0.5B shapes", "tok/s ratio over plain decode"
    scale = (f"MiniCPM4-0.5B shapes, ternary, replay draft at {speculation_05b.TINY_DRAFT_ACCEPTED} "
             "tokens/step, native runner")
    if spec.speedup is None:
        claims.append(not_measured(name, "—", metric, scale, spec.missing))
    else:
        claims.append(Claim(name, "—", spec.describe(), metric, scale, ours_value=spec.speedup))
    details = {"full_tok_s": full.tok_s, "frspec_tok_s": fr.tok_s, "full_mean_accepted": full.mean_accepted,
               "frspec_mean_accepted": fr.mean_accepted, "identical_tokens": r["identical"]}
    return claims, details


def run(tokenizer_dir: Path | None, quick: bool = False) -> ExperimentResult:
    """``tokenizer_dir``: the real MiniCPM4 tokenizer (None: the coverage rows say it is missing)."""
    claims, details = [], {}
    if tokenizer_dir is None:
        for size in SIZES:
            claims.append(not_measured(f"top {size // 1024}K ids cover", "—", "share of corpus tokens", "—",
                                       "no MiniCPM4 tokenizer (set EDGECPM_SHARED or pass --tokenizer DIR)"))
        vocab_size = 73448
    else:
        counts, vocab_size, keep = tokenizer_counts(tokenizer_dir)
        claims += coverage_claims(counts, vocab_size, keep)
    head, head_details = head_claims(vocab_size, reps=5 if quick else 20)
    decode, decode_details = decode_claims(prompts=2 if quick else 6, n=16 if quick else 32, quick=quick)
    details.update(head_details, **decode_details)
    differs = ("Coverage is counted on English docstrings and code, a narrower corpus than the paper's, which "
               "fewer ids cover; the decode speedup is the tiny model's (8192-token vocabulary, eager PyTorch), not a "
               "73K-vocabulary model's, which the 0.5B-shape row is for.")
    return ExperimentResult("frspec", "FR-Spec: frequency-ranked draft vocabulary", claims + head + decode, differs,
                            setting=f"MiniCPM4 tokenizer {tokenizer_dir or 'missing'}", details=details)
