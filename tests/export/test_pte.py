"""The float model as an ExecuTorch program: same greedy tokens as eager, and bad artifacts named."""

from __future__ import annotations

import json
import os
import shutil

import pytest
import torch

from edgecpm.checkpoint.loader import load_model
from edgecpm.checkpoint.locate import resolve_model
from edgecpm.checkpoint.quantized import quantize_checkpoint
from edgecpm.errors import CheckpointError, EdgecpmError, KernelLibraryError
from edgecpm.export.pte import MANIFEST, PROGRAM, VOCAB_BIN, export_pte
from edgecpm.export.pte_manifest import LIBRARY_NAME
from edgecpm.generate import generate
from edgecpm.quant.config import Int4Config
from edgecpm.runtime.pte import PteModel
from tests.conftest import GREEDY_PROMPT, greedy_reference


@pytest.fixture(scope="module")
def exported(tiny_bundles):
    return tiny_bundles["float"][1]


@pytest.mark.slow
def test_pte_greedy_tokens_equal_eager(exported):
    pte = PteModel(exported)
    eager = load_model(resolve_model("tiny"), dtype=torch.float32, max_seq_len=96)
    prompt = [1, 604, 322, 1290, 2000, 17]
    assert generate(pte, GREEDY_PROMPT, 32, eos_ids=pte.config.eos_token_id).tokens == greedy_reference(
        eager, GREEDY_PROMPT, 32)
    ids = torch.tensor([prompt])
    # fp32 both ways; XNNPACK's GEMMs sum in another order: measured 1.1e-5 on these logits (|x| < 30).
    assert (pte(ids, torch.arange(6)) - eager(ids, torch.arange(6))).abs().max().item() < 1e-3


@pytest.mark.slow
def test_manifest_names_everything_a_device_needs(exported):
    m = json.loads((exported / MANIFEST).read_text())
    assert m["scheme"] == "float32" and m["target"] == "host" and m["kernel_library"] == LIBRARY_NAME
    assert {"forward", "get_bos_id", "get_eos_ids", "get_max_seq_len", "get_vocab_size", "use_kv_cache"} <= set(m["methods"])
    assert "edgecpm::cached_attention.out" in m["operators"]  # the KV-cache write and attention
    assert set(m["sha256"]) == {PROGRAM, "tokenizer.json", VOCAB_BIN, LIBRARY_NAME}


@pytest.mark.slow
def test_truncated_program_and_bad_checksum_are_named(exported, tmp_path):
    bad = shutil.copytree(exported, tmp_path / "bad")
    data = (bad / PROGRAM).read_bytes()
    (bad / PROGRAM).write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=f"{PROGRAM}: missing or its sha256 does not match manifest.json"):
        PteModel(bad)
    # Even unchecked (or rehashed by whoever damaged it), the runtime refuses a truncated program,
    # and the refusal is one line naming the file, not ExecuTorch's "RuntimeError: ... 0x23".
    with pytest.raises(CheckpointError, match=f"{PROGRAM}: ExecuTorch cannot load or run it"):
        PteModel(bad, verify=False)(torch.tensor([[1]]), torch.tensor([0]))


def test_unknown_target_and_unbuilt_kernels_are_refused_before_lowering(tmp_path):
    with pytest.raises(EdgecpmError, match="--target phone: no recipe .*choose one of: android, host, jetson"):
        export_pte(resolve_model("tiny"), tmp_path / "out", target="phone")
    quantize_checkpoint(resolve_model("tiny"), tmp_path / "q", Int4Config(group_size=32))
    # The android kernel library needs the NDK, which this machine lacks: named, not attempted.
    with pytest.raises(KernelLibraryError, match="--target android .* not built: run the Android NDK build"):
        export_pte(tmp_path / "q", tmp_path / "out", target="android")
    assert not (tmp_path / "out").exists()


def test_a_broken_tokenizer_is_named_before_lowering(tmp_path, monkeypatch):
    import edgecpm.export.pte as pte

    src = shutil.copytree(resolve_model("tiny"), tmp_path / "tiny")
    (src / "tokenizer.json").write_text('{"model": {"type": "BPE", "vocab": ')
    monkeypatch.setattr(pte, "lower_model", lambda *a, **k: pytest.fail("lowered before reading the tokenizer"))
    with pytest.raises(EdgecpmError, match="tokenizer.json"):
        export_pte(src, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_eval_compares_the_program_with_eager(exported):
    from edgecpm.eval.compare import compare_quality

    eager = load_model(resolve_model("tiny"), dtype=torch.float32, max_seq_len=96)
    ids = torch.arange(10, 400, 3)
    ref, pte = compare_quality({"eager": eager, "pte": PteModel(exported)}, ids, ctx=96)
    assert pte.scheme == "float32 .pte (xnnpack)"
    assert pte.top1 == 1.0 and pte.kld < 1e-6 and pte.ppl == pytest.approx(ref.ppl, rel=1e-4)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc, where no file can be created")
@pytest.mark.parametrize("fmt", ["pte", "gguf"])
def test_an_unwritable_output_is_one_line_before_any_work(fmt):
    from tests.cli.test_cli import invoke

    # /proc refuses new files even to root, for whom permission bits do not count.
    r = invoke("export", "tiny", "--format", fmt, "-o", "/proc/edgecpm-out")
    assert r.exit_code == 2, r.output
    assert r.output.startswith("error: cannot write /proc/edgecpm-out: cannot create files in /proc")
    assert ".tmp-" not in r.output and len(r.output.strip().splitlines()) == 1
    assert "[export]" not in r.output  # refused before loading or lowering anything
