"""GGUF export: read the file back with the gguf package and dequantize with *its* code."""

from __future__ import annotations

import shutil

import gguf
import numpy as np
import pytest
import torch

from edgecpm.checkpoint.loader import load_model
from edgecpm.checkpoint.locate import resolve_model
from edgecpm.checkpoint.quantized import quantize_checkpoint
from edgecpm.checkpoint.random_init import write_random_checkpoint
from edgecpm.errors import QuantError
from edgecpm.export.gguf import export_gguf, gguf_name, rope_row_order
from edgecpm.model.minicpm import is_block_linear
from edgecpm.model.presets import preset
from edgecpm.quant.config import Int4Config, TernaryConfig
from edgecpm.quant.int4 import dequantize_int4
from edgecpm.quant.linear import QuantizedEmbedding
from edgecpm.quant.tq import dequantize_tq
from tests.conftest import MINICPM4_05B, make_checkpoint, small_config



def _field(reader, key):
    f = reader.fields[key]
    value = f.parts[f.data[0]]
    return bytes(value).decode() if f.types[0] == gguf.GGUFValueType.STRING else value[0]


def _gguf_weights(path) -> dict[str, torch.Tensor]:
    reader = gguf.GGUFReader(path)
    return {t.name: torch.from_numpy(np.array(gguf.quants.dequantize(t.data, t.tensor_type)).copy())
            .reshape(*reversed([int(x) for x in t.shape])) for t in reader.tensors}


def _our_weight(module, name, cfg):
    if isinstance(module, QuantizedEmbedding):
        w = module(torch.arange(module.qweight.shape[0]).unsqueeze(0))[0].float()
    elif hasattr(module, "packed"):
        w = dequantize_tq(module.packed_weight(), torch.float32)
    elif hasattr(module, "qweight"):
        w = dequantize_int4(module.int4_weight())
    else:
        w = module.weight.float()
    heads = {"self_attn.q_proj": cfg.num_attention_heads, "self_attn.k_proj": cfg.num_key_value_heads}
    for suffix, h in heads.items():
        if name.endswith(suffix):
            w = w[rope_row_order(w.shape[0], h)]
    return w


@pytest.mark.parametrize("scheme", [
    Int4Config(group_size=32), TernaryConfig(group_size=256, layout="tq2_0"),
    TernaryConfig(group_size=0, layout="tq1_0"), None,
    Int4Config(group_size=32, embeddings="int8"), TernaryConfig(group_size=256, embeddings="int4")])
def test_gguf_weights_equal_ours_through_ggufs_own_dequantizer(tmp_path, scheme):
    src = resolve_model("tiny")
    if scheme is not None:
        quantize_checkpoint(src, tmp_path / "q", scheme)
        src = tmp_path / "q"
    out = export_gguf(src, tmp_path / "m.gguf")
    model = load_model(src, max_seq_len=16)
    cfg = model.config
    got = _gguf_weights(out)
    for name, module in model.named_modules():
        if is_block_linear(name) or name in ("model.embed_tokens",):
            assert torch.equal(got[gguf_name(name) + ".weight"], _our_weight(module, name, cfg)), name
    reader = gguf.GGUFReader(out)
    types = {t.name: t.tensor_type.name for t in reader.tensors}
    want = {None: "F32", "int4": "Q4_0"}.get(getattr(scheme, "scheme", None)) or scheme.layout.upper()
    assert types["blk.0.ffn_down.weight"] == want
    emb_type = {"int8": "Q8_0", "int4": "Q4_0"}.get(getattr(scheme, "embeddings", "fp"), "F32")
    assert types["token_embd.weight"] == emb_type
    assert _field(reader, "general.architecture") == "minicpm"
    assert _field(reader, "minicpm.embedding_scale") == pytest.approx(12.0)
    assert _field(reader, "minicpm.residual_scale") == pytest.approx(1.4 / 2)
    assert _field(reader, "minicpm.logit_scale") == pytest.approx(256 / 64)
    assert _field(reader, "tokenizer.ggml.model") == "gpt2"
    assert len(reader.fields["tokenizer.ggml.tokens"].data) == 8192
    assert "output.weight" not in types  # tied head: llama.cpp reuses token_embd


def test_real_minicpm4_sentencepiece_tokenizer_goes_in(tmp_path):
    if not (MINICPM4_05B / "tokenizer.model").is_file():
        pytest.skip("real MiniCPM4 tokenizer not available")
    cfg = small_config()
    cfg.vocab_size = 73448
    ckpt = make_checkpoint(tmp_path / "m", cfg)
    for f in ("tokenizer.model", "added_tokens.json", "tokenizer_config.json"):
        shutil.copy(MINICPM4_05B / f, ckpt / f)
    reader = gguf.GGUFReader(export_gguf(ckpt, tmp_path / "m.gguf"))
    assert _field(reader, "tokenizer.ggml.model") == "llama"
    tokens = reader.fields["tokenizer.ggml.tokens"]
    assert len(tokens.data) == 73448
    assert bytes(tokens.parts[tokens.data[73440]]).decode() == "<|im_end|>"


@pytest.mark.parametrize("scheme,hint", [
    (TernaryConfig(group_size=128), "--group-size 256"),
    (Int4Config(group_size=128), "--group-size 32"),
    (Int4Config(group_size=32, symmetric=False), "--group-size 32")])
def test_schemes_without_an_exact_gguf_type_are_refused(tmp_path, scheme, hint):
    quantize_checkpoint(resolve_model("tiny"), tmp_path / "q", scheme)
    with pytest.raises(QuantError, match=hint):
        export_gguf(tmp_path / "q", tmp_path / "m.gguf")
    assert not (tmp_path / "m.gguf").exists() and not list(tmp_path.glob(".tmp-*"))


def _llama_cpp_python() -> str:
    """A python with llama-cpp-python (``edgecpm.peers.llamacpp.llama_python``), or skip naming how to get one."""
    from edgecpm.peers.llamacpp import INSTALL_HINT, llama_python

    python = llama_python()
    if python is None:
        pytest.skip(INSTALL_HINT)
    return python


@pytest.fixture(scope="module")
def bf16_gguf(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bf16")
    tok = resolve_model("tiny") / "tokenizer.json"
    ckpt = write_random_checkpoint(preset("tiny"), tmp / "ckpt", dtype=torch.bfloat16,
                                   extra_files={"tokenizer.json": tok.read_bytes()})
    return export_gguf(ckpt, tmp / "m.gguf")


def test_bf16_checkpoint_writes_norms_as_f32(bf16_gguf):
    # llama.cpp's CPU backend aborts on a BF16 norm weight ("binary_op: unsupported types").
    types = {t.name: t.tensor_type.name for t in gguf.GGUFReader(bf16_gguf).tensors}
    norms = {n: t for n, t in types.items() if n.endswith("norm.weight")}
    assert len(norms) == 2 * 4 + 1 and set(norms.values()) == {"F32"}
    assert types["blk.0.ffn_down.weight"] == "BF16"  # matrices keep the checkpoint's precision


def test_llama_cpp_loads_and_evals_a_bf16_gguf(bf16_gguf):
    import json
    import subprocess

    python = _llama_cpp_python()
    from edgecpm.peers.llamacpp import WORKER

    out = subprocess.run([python, str(WORKER), str(bf16_gguf), "--prompt-ids", "5,6,7,8", "-n", "2"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["logits_finite"] and len(result["tokens"]) == 2


def test_the_gguf_carries_the_chat_end_of_turn(tmp_path):
    reader = gguf.GGUFReader(export_gguf(resolve_model("tiny"), tmp_path / "m.gguf"))
    assert _field(reader, "tokenizer.ggml.bos_token_id") == 1
    assert _field(reader, "tokenizer.ggml.eos_token_id") == 2
    assert _field(reader, "tokenizer.ggml.eot_token_id") == 3  # <|im_end|>: llama.cpp's chat stops there


def test_real_minicpm4_end_ids_and_chat_template_go_in(tmp_path):
    if not (MINICPM4_05B / "tokenizer.model").is_file():
        pytest.skip("real MiniCPM4 tokenizer not available")
    cfg = small_config()
    cfg.vocab_size, cfg.eos_token_id = 73448, [2, 73440]  # MiniCPM4-0.5B's config.json
    ckpt = make_checkpoint(tmp_path / "m", cfg)
    for f in ("tokenizer.model", "added_tokens.json", "tokenizer_config.json"):
        shutil.copy(MINICPM4_05B / f, ckpt / f)
    reader = gguf.GGUFReader(export_gguf(ckpt, tmp_path / "m.gguf"))
    assert _field(reader, "tokenizer.ggml.eos_token_id") == 2
    assert _field(reader, "tokenizer.ggml.eot_token_id") == 73440
    assert "<|im_start|>" in _field(reader, "tokenizer.chat_template")


CHAT = ["<pad>", "<s>", "</s>", "<|im_end|>"]


@pytest.mark.parametrize("eos,tokens,want", [
    ([2], ["<s>", "</s>", "x"], {"eos": 2}),
    ([2], CHAT, {"eos": 2, "eot": 3}),                  # the ChatML end, even when the config omits it
    ([2, 73440], ["<s>", "</s>"], {"eos": 2, "eot": 73440}),
    ([2, 5, 7], CHAT, {"eos": 2, "eot": 3, "eom": 5}),  # three slots: a fourth id has none
    ([3], CHAT, {"eos": 3}),
])
def test_end_ids_fill_the_gguf_slots(eos, tokens, want):
    from edgecpm.export.gguf import end_ids

    assert end_ids(eos, tokens) == want


def test_gguf_output_follows_the_writers_rule(tmp_path, monkeypatch):
    from tests.cli.test_cli import invoke

    import edgecpm.export.gguf as gguf_export

    out = tmp_path / "m.gguf"
    out.write_bytes(b"an earlier export")
    read = []
    monkeypatch.setattr(gguf_export, "load_config", lambda d: read.append(d) or pytest.fail("read before checking -o"))
    r = invoke("export", "tiny", "--format", "gguf", "-o", out)
    assert r.exit_code == 2 and f"error: {out} already exists; remove it or pass --force" in r.output
    assert out.read_bytes() == b"an earlier export"
    (tmp_path / "dir").mkdir()
    for target in (tmp_path / "dir", f"{tmp_path}/new/"):
        r = invoke("export", "tiny", "--format", "gguf", "-o", target)
        assert r.exit_code == 2 and "is a directory; -o takes a file path here, e.g." in r.output, r.output
        assert "tiny.gguf" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "new").exists() and list((tmp_path / "dir").iterdir()) == []
    r = invoke("export", "tiny", "--format", "gguf", "-o", tmp_path / "m.gguf" / "x.gguf")
    assert r.exit_code == 2 and f"cannot write {out}/x.gguf: {out} is a file, not a directory" in r.output
    monkeypatch.undo()

    r = invoke("export", "tiny", "--format", "gguf", "-o", out, "--force")
    assert r.exit_code == 0, r.output
    assert gguf.GGUFReader(out).fields["general.architecture"] and not list(tmp_path.glob(".tmp-*"))
