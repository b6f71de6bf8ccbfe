"""benchmarks/peers.py's arithmetic on made-up timing records (no peers run, no timing asserts)."""

from __future__ import annotations

import pytest

from benchmarks.peers_report import (ET_8DA4W, LLAMA_Q4, LLAMA_TQ2, OURS_INT4, OURS_TERNARY, ratio_line,
                                     ratio_to_best, table)


def rec(pp, tg):
    return {"prefill_tok_s": pp, "decode_tok_s": tg}


ROUNDS = [
    # Round 1: 8da4w is the faster peer on decode, llama.cpp TQ2_0 on prefill.
    {OURS_TERNARY: rec(100, 50), OURS_INT4: rec(80, 30), LLAMA_TQ2: rec(200, 40), LLAMA_Q4: rec(150, 20),
     ET_8DA4W: rec(120, 100)},
    # Round 2: llama.cpp faster everywhere.
    {OURS_TERNARY: rec(100, 60), OURS_INT4: rec(90, 40), LLAMA_TQ2: rec(400, 120), LLAMA_Q4: rec(300, 80),
     ET_8DA4W: rec(100, 60)},
    # Round 3: ours faster than both.
    {OURS_TERNARY: rec(300, 90), OURS_INT4: rec(90, 45), LLAMA_TQ2: rec(100, 45), LLAMA_Q4: rec(60, 30),
     ET_8DA4W: rec(50, 30)},
]


def test_ratio_is_the_median_over_rounds_of_ours_over_the_faster_peer():
    # decode ternary: 50/100, 60/120, 90/45 -> 0.5, 0.5, 2.0 -> median 0.5
    assert ratio_to_best(ROUNDS, OURS_TERNARY, "decode_tok_s") == pytest.approx(0.5)
    # prefill ternary: 100/200, 100/400, 300/100 -> 0.5, 0.25, 3.0 -> 0.5
    assert ratio_to_best(ROUNDS, OURS_TERNARY, "prefill_tok_s") == pytest.approx(0.5)
    # decode int4 against Q4_0 / 8da4w: 30/100, 40/80, 45/30 -> 0.3, 0.5, 1.5 -> 0.5
    assert ratio_to_best(ROUNDS, OURS_INT4, "decode_tok_s") == pytest.approx(0.5)
    assert ratio_line(ROUNDS) == "ratio decode ternary/best 0.50 prefill 0.50; int4/best decode 0.50"


def test_a_missing_peer_leaves_the_ratio_to_those_present_and_none_gives_na():
    no_llama = [{k: v for k, v in r.items() if not k.startswith("llama")} for r in ROUNDS]
    # decode ternary vs 8da4w only: 50/100, 60/60, 90/30 -> 0.5, 1.0, 3.0 -> 1.0
    assert ratio_to_best(no_llama, OURS_TERNARY, "decode_tok_s") == pytest.approx(1.0)
    only_ours = [{OURS_TERNARY: r[OURS_TERNARY], OURS_INT4: r[OURS_INT4]} for r in ROUNDS]
    assert ratio_line(only_ours) == "ratio decode ternary/best n/a prefill n/a; int4/best decode n/a"


def test_table_rows_medians_and_effective_bandwidth():
    sizes = {OURS_TERNARY: 100_000_000, LLAMA_TQ2: 110_000_000, ET_8DA4W: 300_000_000}
    rows = table(ROUNDS, sizes, copy_gb_s=20.0).splitlines()
    assert rows[0].startswith("| artifact | file MB |")
    assert len(rows) == 2 + 3  # header, rule, one row per artifact with a size, in ORDER
    # ternary: median prefill 100, decode 60; 100 MB x 60 tok/s = 6 GB/s = 30% of 20 GB/s
    assert rows[2] == f"| {OURS_TERNARY} | 100.0 | 100.0 | 60.0 | 6.00 | 30% |"
    # 8da4w: decode median 60 -> 300 MB x 60 = 18 GB/s = 90%
    assert rows[4] == f"| {ET_8DA4W} | 300.0 | 100.0 | 60.0 | 18.00 | 90% |"


def test_an_artifact_with_a_size_but_no_timings_says_missing():
    rows = table([{}], {LLAMA_Q4: 5_000_000}, copy_gb_s=10.0).splitlines()
    assert rows[2] == f"| {LLAMA_Q4} | 5.0 | missing | missing | | |"
