"""GPTQ over the embedded model: it must beat round-to-nearest where it claims to (output error)."""

from __future__ import annotations

import pytest
import torch

from edgecpm.checkpoint.gptq_calibration import gptq_model
from edgecpm.checkpoint.loader import load_model
from edgecpm.checkpoint.locate import resolve_model
from edgecpm.checkpoint.quantized import quantize_checkpoint
from edgecpm.errors import QuantError
from edgecpm.eval.compare import compare_quality
from edgecpm.quant.config import Int4Config
from edgecpm.tiny.corpus import split_text, stdlib_documents
from edgecpm.tokenizer.tokenizer import load_tokenizer


@pytest.mark.slow
def test_gptq_has_lower_kld_than_rtn_on_held_out_text(tmp_path):
    tiny = resolve_model("tiny")
    train, held = split_text(stdlib_documents())
    cfg = Int4Config(group_size=128, method="gptq", calib_sequences=16, calib_seq_len=128, skip_first=4)
    quantize_checkpoint(tiny, tmp_path / "gptq", cfg, prepared=gptq_model(tiny, cfg, train))
    quantize_checkpoint(tiny, tmp_path / "rtn", Int4Config(group_size=128))
    ids = torch.tensor(load_tokenizer(tiny).encode(held))[:3001]
    models = {n: load_model(p, max_seq_len=256) for n, p in
              [("fp", tiny), ("rtn", tmp_path / "rtn"), ("gptq", tmp_path / "gptq")]}
    _, rtn, gptq = compare_quality(models, ids, 256)
    # Measured: KLD 0.0199 (RTN) vs 0.0169 (GPTQ) with skip_first=0; GPTQ optimises exactly this
    # kind of output error, so losing to RTN would mean a broken Hessian or update.
    assert gptq.kld < rtn.kld
    assert gptq.scheme == "int4 sym g128 gptq"


def test_too_little_calibration_text_is_a_clear_error():
    cfg = Int4Config(method="gptq", calib_sequences=64, calib_seq_len=256)
    with pytest.raises(QuantError, match="calibration text has .* tokens; GPTQ with 64 sequences of 256"):
        gptq_model(resolve_model("tiny"), cfg, "far too short")
