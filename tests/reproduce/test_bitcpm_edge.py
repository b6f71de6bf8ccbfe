"""BitCPM and edge experiments: quality scores and the share kept, bits per weight, and decode
ratios computed from (injected) measurements; missing 0.5B artifacts are named, not skipped."""

from __future__ import annotations

import math

import pytest
import torch

from edgecpm.reproduce import bitcpm, decode_05b, edge, speculation_05b
from edgecpm.reproduce.bitcpm_quality import Score, kept, next_token_scores
from edgecpm.reproduce.decode_05b import DecodeSpeed
from edgecpm.reproduce.speculation_05b import SpecSpeedup


class NextIdModel(torch.nn.Module):
    """Logits 10 on (id + shift) mod vocab, 0 elsewhere."""

    def __init__(self, vocab: int, shift: int):
        super().__init__()
        self.vocab, self.shift = vocab, shift

    def forward(self, x):
        return torch.nn.functional.one_hot((x + self.shift) % self.vocab, self.vocab).float() * 10


def test_next_token_scores_count_hits_and_nll():
    ids = torch.arange(40) % 8            # every next token is the id + 1
    ppl, acc, n = next_token_scores(NextIdModel(8, 1), ids, ctx=16)
    assert (acc, n) == (1.0, 39)
    assert ppl == pytest.approx(math.exp(-math.log(math.exp(10) / (math.exp(10) + 7))))
    assert next_token_scores(NextIdModel(8, 0), ids, ctx=16)[1] == 0.0


def scores() -> dict[str, Score]:
    return {"fp": Score(20.0, 0.40, 100, 16.0), "ternary PTQ": Score(1e5, 0.02, 100, 2.0625),
            "ternary QAT": Score(25.0, 0.30, 100, 2.0625), "int4 RTN g128": Score(21.0, 0.39, 100, 4.125),
            "int4 GPTQ g128": Score(20.8, 0.395, 100, 4.125), "int4 P-GPTQ g128": Score(20.4, 0.396, 100, 4.125)}


def test_quality_kept_is_accuracy_over_fp():
    assert kept(Score(1, 0.3, 1, 2), Score(1, 0.4, 1, 16)) == pytest.approx(0.75)
    qat, ptq, rtn, gptq = bitcpm.quality_claims(scores(), 100)
    assert qat.ours_value == pytest.approx(75.0) and qat.paper_value == 75.0
    assert ptq.ours_value == pytest.approx(5.0) and ptq.paper_value is None
    assert gptq.ours_value == pytest.approx(20.4 / 20.8) and "ppl 20.4 vs 20.8" in gptq.ours


def test_bits_per_weight_rows_read_the_scores():
    rows = bitcpm.bits_claims(scores())
    assert [(r.ours, r.paper_value) for r in rows] == [("2.0625", 2.0625), ("4.125", None), ("16", None)]


def speeds() -> dict[str, DecodeSpeed]:
    return {"fp": DecodeSpeed("fp", None, None, missing="no bundle at X/fp-pte"),
            "int4": DecodeSpeed("int4", [19.0, 20.0, 21.0], 4.5, [9.0, 10.0, 30.0]),
            "ternary": DecodeSpeed("ternary", [30.0, 31.0, 29.0], 2.0625, None, llamacpp_missing="not installed")}


def test_decode_speed_rows_and_the_ternary_over_int4_ratio():
    rows = bitcpm.speed_claims(speeds())
    assert not rows[0].measured and "no bundle at X/fp-pte" in rows[0].ours
    assert rows[1].ours == "20.0 tok/s (4.5 bpw)"
    assert rows[3].claim == "decode speed, ternary over int4" and rows[3].ours_value == pytest.approx(1.5)


def test_edge_rows_are_ours_over_llamacpp_medians(monkeypatch):
    monkeypatch.setattr(speculation_05b, "measure", lambda quick=False: SpecSpeedup(None, missing="no program"))
    fp, int4, ternary = edge.peer_claims(speeds())
    assert not fp.measured
    assert int4.ours_value == pytest.approx(2.0) and "20.0 vs 10.0 tok/s (2.00×)" in int4.ours
    assert "llama.cpp not measured: not installed" in ternary.ours
    assert [c.measured for c in edge.pending_claims()] == [False]   # speculation, until it is wired in


def test_missing_artifacts_are_named_with_the_command_that_makes_them(tmp_path):
    measured = decode_05b.measure(tmp_path / "none", reps=1)
    assert [s.median for s in measured.values()] == [None, None, None]
    assert "python -m benchmarks.peers --shape minicpm4-0.5b" in measured["int4"].missing
    assert f"edgecpm export {tmp_path / 'none'}/fp -o" in measured["fp"].missing


def test_a_failing_runner_becomes_the_rows_reason(tmp_path, monkeypatch):
    import json

    import edgecpm.bench
    from edgecpm.errors import EdgecpmError

    bundle = tmp_path / "int4-pte"
    bundle.mkdir()
    (bundle / "manifest.json").write_text(json.dumps({"config": {"vocab_size": 100}, "bits_per_weight": 4.5}))

    def fail(*args, **kwargs):
        raise EdgecpmError("edgecpm-runner failed on int4-pte (exit 1): bad program")

    from types import SimpleNamespace

    import edgecpm.export.targets

    (tmp_path / "edgecpm-runner").write_text("")   # found, never run: runner_samples is replaced
    monkeypatch.setattr(edgecpm.export.targets, "load_target", lambda name: SimpleNamespace(kernel_dir=tmp_path))
    monkeypatch.setattr(edgecpm.bench, "runner_samples", fail)
    speed = decode_05b._measure_one(tmp_path, "int4", reps=1, with_llamacpp=True)
    assert speed.median is None and "bad program" in speed.missing
