"""A model with sparse_config as a real .pte bundle: `export_pte` bundles the kernel library (the
attention is an edgecpm:: op even for float weights), and the ExecuTorch runtime running the C++
kernel gives eager's logits over prefill + decode, with blocks really dropped."""

from __future__ import annotations

import shutil

import pytest
import torch

from edgecpm.checkpoint.locate import resolve_model
from edgecpm.export.pte import export_pte
from edgecpm.export.pte_manifest import LIBRARY_NAME
from edgecpm.runtime.pte import PteModel
from tests.attention.test_sparse_model import REAL, set_dense, sparse_model, tokens

MAX_SEQ_LEN = 320
TOL = 1e-4  # fp32 logits; kernel and reference differ in summation order only


@pytest.mark.slow
def test_sparse_bundle_runs_like_eager(tmp_path):
    eager = sparse_model(tmp_path / "m", REAL, MAX_SEQ_LEN)
    # a bundle carries a tokenizer (and vocab.bin for the runner); any will do for logits
    shutil.copy(resolve_model("tiny") / "tokenizer.json", tmp_path / "m" / "ckpt")
    bundle = export_pte(tmp_path / "m" / "ckpt", tmp_path / "pte", max_seq_len=MAX_SEQ_LEN)
    assert (bundle / LIBRARY_NAME).is_file()
    pte = PteModel(bundle)
    assert "edgecpm::infllm_attention.out" in pte.manifest["operators"]
    # The caches are written in place: no index_put into a copy of a whole cache (and its copy back).
    assert "edgecpm::cache_write.out" in pte.manifest["operators"]
    assert not [op for op in pte.manifest["operators"] if "index_put" in op or op.startswith("aten::copy")]

    ids = tokens(300)
    with torch.no_grad():
        want = eager(ids, torch.arange(300))
        # prefill 260, then decode 40: past position 192 five blocks are visible and the budget
        # (3 chosen + 1 local) drops one
        got = [pte(ids[:, :260], torch.arange(260))]
        got += [pte(ids[:, i:i + 1], torch.tensor([i])) for i in range(260, 300)]
        set_dense(eager, True)
        dense = eager(ids, torch.arange(300))
    assert (torch.cat(got, 1) - want).abs().max().item() <= TOL
    # the program is not dense attention in disguise: dense is 10x the tolerance away
    assert (dense - want).abs().max().item() > 10 * TOL


def test_sparse_flag_needs_a_sparse_config():
    from typer.testing import CliRunner

    from edgecpm.cli.app import app

    r = CliRunner().invoke(app, ["export", "tiny", "--sparse", "-o", "unused"])
    assert r.exit_code == 2 and "has no sparse_config" in r.output


@pytest.mark.slow
def test_no_sparse_exports_dense_attention(tmp_path):
    eager = sparse_model(tmp_path / "m", REAL, 96)
    shutil.copy(resolve_model("tiny") / "tokenizer.json", tmp_path / "m" / "ckpt")
    bundle = export_pte(tmp_path / "m" / "ckpt", tmp_path / "pte", max_seq_len=96, sparse=False)
    pte = PteModel(bundle)
    assert "edgecpm::infllm_attention.out" not in pte.manifest["operators"]
    assert "edgecpm::cached_attention.out" in pte.manifest["operators"]
    assert pte.manifest["config"].get("sparse_config") is None
    ids = tokens(80)
    set_dense(eager, True)
    with torch.no_grad():
        assert (pte(ids, torch.arange(80)) - eager(ids, torch.arange(80))).abs().max().item() <= TOL
