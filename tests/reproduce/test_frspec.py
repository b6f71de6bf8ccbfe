"""FR-Spec experiment: coverage counts, head FLOPs, the time saving and speedup computed from
(injected) measurements."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import pytest

from edgecpm.reproduce import frspec, speculation_05b
from edgecpm.reproduce.frspec_decode import DecodeTotals, merged, totals
from edgecpm.reproduce.speculation_05b import SpecSpeedup


def test_coverage_counts_the_top_ids_with_eos_forced_in():
    counts = Counter({5: 50, 3: 30, 7: 15, 9: 5})
    # EOS (2) never occurs but takes a place: size 2 keeps EOS and id 5 only.
    assert frspec.coverage_by_size(counts, (2, 3, 5), vocab_size=12, keep=[2]) == \
        {2: pytest.approx(0.5), 3: pytest.approx(0.8), 5: pytest.approx(1.0)}


def test_head_flops_saving_is_the_dropped_row_share():
    assert frspec.head_flops_saved(1024, 73448, 18362) == pytest.approx(1 - 18362 / 73448)
    assert frspec.head_flops_saved(64, 100, 25) == pytest.approx(0.75)


def test_head_time_saving_compares_the_best_calls():
    assert frspec.head_time_saved([0.04, 0.02, 0.03], [0.01, 0.006, 0.02]) == pytest.approx(0.7)


def test_decode_totals_sum_tokens_time_and_steps():
    runs = [SimpleNamespace(tokens=[1, 2, 3, 4], prefill_s=0.5, decode_s=1.5, verify_steps=2, accepted_per_step=[3, 1]),
            SimpleNamespace(tokens=[5, 6], prefill_s=0.25, decode_s=0.75, verify_steps=1, accepted_per_step=[2])]
    t = totals(runs)
    assert t.tok_s == pytest.approx(6 / 3.0)
    assert t.mean_accepted == pytest.approx(6 / 3)


def test_repeated_runs_merge_into_one():
    m = merged([DecodeTotals([[1, 2]], 1.0, 2, 4), DecodeTotals([[1, 2, 3]], 3.0, 2, 4)])
    assert (m.outputs, m.seconds, m.verify_steps, m.emitted) == ([[1, 2], [1, 2, 3]], 4.0, 4, 8)
    assert m.tok_s == pytest.approx(5 / 4.0) and m.mean_accepted == 2.0


def fake_comparison(identical: bool):
    def compare(prompts, n):
        return {"runs": {"full": DecodeTotals([[1] * 10], 2.0, 5, 10),      # 5 tok/s, 2.0 per step
                         "frspec": DecodeTotals([[1] * 10], 1.6, 4, 10)},   # 6.25 tok/s, 2.5 per step
                "frspec_size": 2048, "vocab_size": 8192, "prompts": prompts, "n": n, "threads": 1,
                "identical": identical}
    return compare


@pytest.fixture
def no_05b_program(monkeypatch):
    """The 0.5B speculation row as on a machine without its cached program."""
    monkeypatch.setattr(speculation_05b, "measure", lambda quick=False: SpecSpeedup(None, missing="no program here"))


def test_decode_speedup_is_frspec_over_full_from_the_measured_times(monkeypatch, no_05b_program):
    monkeypatch.setattr(frspec, "tiny_draft_comparison", fake_comparison(identical=True))
    claims, details = frspec.decode_claims(prompts=3, n=10)
    speed, acceptance, at_05b = claims
    assert speed.ours_value == pytest.approx(6.25 / 5.0) and speed.ours == "1.25×"
    assert speed.paper_value == 1.12
    assert acceptance.ours_value == pytest.approx(2.5) and "full vocab 2.00" in acceptance.ours
    assert not at_05b.measured and "no program here" in at_05b.ours
    assert details["identical_tokens"] is True


def test_different_tokens_are_flagged_in_the_row(monkeypatch, no_05b_program):
    monkeypatch.setattr(frspec, "tiny_draft_comparison", fake_comparison(identical=False))
    claims, _ = frspec.decode_claims(prompts=3, n=10)
    assert "TOKENS DIFFER" in claims[0].ours


@pytest.mark.slow  # tokenizes the 1.9 MB training split (~4 s)
def test_coverage_rows_with_the_real_tokenizer(minicpm4_tokenizer_dir):
    counts, vocab_size, keep = frspec.tokenizer_counts(minicpm4_tokenizer_dir)
    assert vocab_size == 73448 and 2 in keep
    rows = frspec.coverage_claims(counts, vocab_size, keep)
    values = [r.ours_value for r in rows[:3]]
    assert values == sorted(values) and 50 < values[0] <= 100
    assert rows[3].claim == "top 25% of vocab (18362 ids) covers" and rows[3].paper_value == 95.0


def test_without_a_tokenizer_the_coverage_rows_say_why(monkeypatch):
    monkeypatch.setattr(frspec, "head_claims", lambda vocab, reps: ([], {}))
    monkeypatch.setattr(frspec, "decode_claims", lambda prompts, n, quick: ([], {}))
    result = frspec.run(None, quick=True)
    assert [c.measured for c in result.claims] == [False] * 3
    assert all("no MiniCPM4 tokenizer" in c.ours for c in result.claims)
