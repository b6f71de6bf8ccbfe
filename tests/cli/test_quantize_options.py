"""``edgecpm quantize``: the group size recorded is the one stored, and options that a scheme
ignores are refused before any work, with nothing written."""

from __future__ import annotations

import json

import pytest
from safetensors import safe_open
from typer.testing import CliRunner

from edgecpm.cli.app import app


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def _scales_columns(out):
    with safe_open(str(out / "model.safetensors"), "pt") as f:
        return {k: f.get_slice(k).get_shape()[1] for k in f.keys() if k.endswith("down_proj.scales")}


def test_ternary_group_size_is_what_the_bytes_hold(tmp_path):
    """tiny-ternary is QAT-trained in groups of 256: g64 used to be g256's bytes labelled g64."""
    import torch

    from edgecpm.checkpoint.loader import load_model

    for g in (64, 256):
        r = invoke("quantize", "tiny-ternary", "--scheme", "ternary", "--group-size", g, "-o", tmp_path / f"g{g}")
        assert r.exit_code == 0, r.output
        assert f"ternary TQ2_0 g{g}" in r.output
        assert json.loads((tmp_path / f"g{g}" / "quant_config.json").read_text())["group_size"] == g
    g64, g256 = tmp_path / "g64", tmp_path / "g256"
    assert (g64 / "model.safetensors").read_bytes() != (g256 / "model.safetensors").read_bytes()
    assert set(_scales_columns(g64).values()) == {1024 // 64}  # down_proj: K = 1024
    assert _scales_columns(g256) == {}  # groups of 256 live in the TQ blocks themselves
    # Both hold the checkpoint's own ternary weights exactly: the same model.
    ids, pos = torch.tensor([[1, 40, 50, 60]]), torch.arange(4)
    a, b = (load_model(d, dtype=torch.float32, max_seq_len=8)(ids, pos) for d in (g64, g256))
    assert torch.equal(a, b)


def test_ternary_default_is_the_tq_block(tmp_path):
    r = invoke("quantize", "tiny", "--scheme", "ternary", "-o", tmp_path / "t")
    assert r.exit_code == 0, r.output
    assert "ternary TQ2_0 g256" in r.output and _scales_columns(tmp_path / "t") == {}


def test_a_group_size_that_cannot_hold_a_qat_checkpoint_is_refused(tmp_path):
    r = invoke("quantize", "tiny-ternary", "--scheme", "ternary", "--group-size", 0, "-o", tmp_path / "t")
    assert r.exit_code == 2, r.output
    assert "already ternary" in r.output and "pass --group-size 256" in r.output
    assert "Traceback" not in r.output and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, message", [
    (["--scheme", "ternary", "--group-size", 48], "--group-size 48: ternary takes 32, 64, 128, 256 or 0"),
    (["--scheme", "int4", "--group-size", 0], "--group-size 0: int4 takes 32, 64, 128"),
    (["--scheme", "int4", "--group-size", 256], "--group-size 256: int4 takes 32, 64, 128"),
    (["--scheme", "ternary", "--method", "gptq"], "--method: only for --scheme int4"),
    (["--scheme", "ternary", "--asym"], "--asym: only for --scheme int4"),
    (["--scheme", "ternary", "--calib-seqs", 8], "--calib-seqs: only for --scheme int4"),
    (["--scheme", "int4", "--layout", "tq1_0"], "--layout: only for --scheme ternary"),
    (["--scheme", "int4", "--calib", "x.txt"], "--calib: only for --method gptq; rtn does not calibrate"),
    (["--scheme", "int4", "--skip-first", 4], "--skip-first: only for --method gptq"),
    (["--scheme", "int4", "--method", "gptq", "--calib", "/nonexistent"], "--calib /nonexistent: no such file"),
    (["--scheme", "int4", "--method", "gptq", "--calib-len", 5000],
     "--calib-len 5000: must be at most 1024 (the model's max_position_embeddings is 1024)"),
    (["--scheme", "int4", "--method", "gptq", "--calib-seqs", 0], "--calib-seqs 0: must be at least 1"),
    (["--scheme", "int4", "--method", "gptq", "--calib-len", 8, "--skip-first", 8],
     "--skip-first 8: must be at most 7"),
    (["--scheme", "int4", "--method", "gptq", "--skip-first", -1], "--skip-first -1: must be at least 0"),
    (["--scheme", "int4", "--method", "sgd"], "int4 method 'sgd': choose rtn or gptq"),
])
def test_options_that_cannot_apply_or_are_out_of_bounds(tmp_path, args, message):
    r = invoke("quantize", "tiny", *args, "-o", tmp_path / "q")
    assert r.exit_code == 2, r.output
    assert message in r.output and r.output.count("\n") == 1, r.output
    assert list(tmp_path.iterdir()) == []


def test_calibration_text_that_is_not_utf8(tmp_path):
    calib = tmp_path / "calib.txt"
    calib.write_bytes(b"caf\xe9 latin-1 text")
    r = invoke("quantize", "tiny", "--scheme", "int4", "--method", "gptq", "--calib", calib, "-o", tmp_path / "q")
    assert r.exit_code == 2 and "not UTF-8 text (byte 0xe9 at offset 3)" in r.output
    assert not (tmp_path / "q").exists()
