"""``benchmarks.peers``' arithmetic on made-up timing records (no peers run, no timing asserts)."""

from __future__ import annotations

import pytest

from benchmarks.peers_report import (ET_8DA4W, LLAMA_Q4, LLAMA_TQ2, OURS_INT4, OURS_TERNARY, missing_lines,
                                     ratio_line, ratio_to_best, rows)


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


def test_rows_per_artifact_samples_over_rounds_and_effective_bandwidth():
    sizes = {OURS_TERNARY: 100_000_000, LLAMA_TQ2: 110_000_000, ET_8DA4W: 300_000_000}
    got = rows(ROUNDS, sizes, copy_gb_s=20.0, n_prompt=64, n_gen=32, params_m=433.0, threads=2, device="cpu")
    # a pp and a tg row per artifact with a size, in ORDER
    assert [(r.model, r.test) for r in got] == [(n, t) for n in (OURS_TERNARY, LLAMA_TQ2, ET_8DA4W)
                                                for t in ("pp64", "tg32")]
    pp, tg = got[0], got[1]
    assert pp.samples == [100, 100, 300] and tg.samples == [50, 60, 90] and tg.median == 60
    assert pp.backend == "edgecpm-runner (C++)" and got[2].backend.startswith("llama.cpp")
    # ternary: mean decode 200/3 tok/s x 100 MB = 6.67 GB/s = 33% of 20 GB/s; prefill has no GB/s
    assert tg.weight_gb_s == pytest.approx(100e6 * 200 / 3 / 1e9)
    assert tg.extra == {"file MB": 100.0, "% of copy bandwidth": "33%"} and pp.weight_gb_s is None
    # 8da4w: decode mean 190/3 -> 300 MB x 63.3 = 19 GB/s = 95%
    assert got[5].extra["% of copy bandwidth"] == "95%"


def test_an_artifact_with_a_size_but_no_timings_is_named_missing():
    assert rows([{}], {LLAMA_Q4: 5_000_000}, 10.0, 64, 32, 1.0, 2, "cpu") == []
    assert missing_lines([{}], {LLAMA_Q4: 5_000_000}) == [
        f"missing: {LLAMA_Q4} (5.0 MB) has no timings: every run of it failed"]
