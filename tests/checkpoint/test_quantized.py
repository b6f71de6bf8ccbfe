"""Quantized checkpoints end to end: quantize → write → load → run, and bad input."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from edgecpm.checkpoint.loader import load_model
from edgecpm.checkpoint.quantized import quantize_checkpoint
from edgecpm.errors import CheckpointError, QuantError
from edgecpm.model.config import MiniCPMConfig
from edgecpm.model.minicpm import is_block_linear
from edgecpm.quant.config import Int4Config, TernaryConfig
from edgecpm.quant.int4 import dequantize_int4
from edgecpm.quant.act_quant import fake_quantize_activations
from edgecpm.quant.linear import Int4Linear, TernaryLinear
from edgecpm.quant.metrics import sqnr_db
from edgecpm.quant.qat import fake_quantized_weight
from edgecpm.quant.ternary import dequantize_ternary, quantize_ternary
from edgecpm.quant.tq import dequantize_tq
from tests.conftest import make_checkpoint, small_config
from tests.model.test_export import Step

IDS = torch.arange(3, 40).unsqueeze(0) % 96


def quant_config_shapes(tied=True) -> MiniCPMConfig:
    """Small, but with K a multiple of 256 so the TQ layouts apply."""
    cfg = small_config(tied=tied)
    cfg.hidden_size, cfg.intermediate_size, cfg.num_attention_heads = 256, 512, 4
    cfg.rope_scaling.short_factor = cfg.rope_scaling.short_factor * 4
    cfg.rope_scaling.long_factor = cfg.rope_scaling.long_factor * 4
    return cfg.validate()


@pytest.fixture(scope="module")
def float_ckpt(tmp_path_factory):
    return make_checkpoint(tmp_path_factory.mktemp("q") / "fp", quant_config_shapes(tied=False))


def _linears(model):
    return {n: m for n, m in model.named_modules() if is_block_linear(n)}


@pytest.mark.parametrize("layout", ["tq2_0", "tq1_0"])
@pytest.mark.parametrize("group", [0, 128, 256])
def test_ternary_model_runs_exactly_its_packed_weights(tmp_path, float_ckpt, layout, group):
    out = tmp_path / "q"
    summary = quantize_checkpoint(float_ckpt, out, TernaryConfig(group_size=group, layout=layout))
    assert "ternary" in summary.table()
    q = load_model(out, max_seq_len=48)
    ref = load_model(float_ckpt, max_seq_len=48)
    assert all(isinstance(m, TernaryLinear) for m in _linears(q).values())
    # The packed bytes hold exactly BitCPM's absmean ternarisation of each float weight...
    with torch.no_grad():
        for name, m in _linears(q).items():
            w = ref.get_submodule(name).weight
            want = dequantize_ternary(quantize_ternary(w, group or None), torch.float32)
            assert torch.equal(dequantize_tq(m.packed_weight(), torch.float32), want), name
            # ...and the model with those weights put back (and the ops' int8 activations,
            # quant/act_quant.py) gives the op path's logits.
            w.copy_(want)
            ref.get_submodule(name).register_forward_pre_hook(lambda _m, args: (fake_quantize_activations(args[0]),))
    assert (q(IDS) - ref(IDS)).abs().max().item() <= 1e-5


def test_fake_quantised_bitcpm_checkpoint_packs_bit_exactly(tmp_path, float_ckpt):
    """A BitCPM4-style release (bf16 trit × scale) → packed → every weight back exactly."""
    fq = tmp_path / "fq"
    shutil.copytree(float_ckpt, fq)
    tensors = load_file(fq / "model.safetensors")
    for name, t in tensors.items():
        if is_block_linear(name.removesuffix(".weight")):
            tensors[name] = fake_quantized_weight(t.float(), 256).to(torch.bfloat16)
        else:
            tensors[name] = t.to(torch.bfloat16)
    save_file(tensors, fq / "model.safetensors")
    quantize_checkpoint(fq, tmp_path / "packed", TernaryConfig())  # the default: groups of 256
    quantize_checkpoint(fq, tmp_path / "g128", TernaryConfig(group_size=128))
    packed, g128 = load_model(tmp_path / "packed", max_seq_len=48), load_model(tmp_path / "g128", max_seq_len=48)
    for name, m in _linears(packed).items():
        assert m.scales is None  # self-contained TQ2_0: llama.cpp reads the same bytes
        got = dequantize_tq(m.packed_weight(), torch.bfloat16)
        assert torch.equal(got, tensors[name + ".weight"]), name
        # g128 really is g128 (scales beside the bytes), holding the same weights
        side = g128.get_submodule(name)
        assert side.group_size == 128 and side.scales.shape[1] == side.in_features // 128, name
        assert torch.equal(dequantize_tq(side.packed_weight(), torch.bfloat16), tensors[name + ".weight"]), name


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("group", [32, 128])
def test_int4_rtn_model_is_close_to_float(tmp_path, float_ckpt, symmetric, group):
    quantize_checkpoint(float_ckpt, tmp_path / "q", Int4Config(group_size=group, symmetric=symmetric))
    q = load_model(tmp_path / "q", max_seq_len=48)
    ref = load_model(float_ckpt, max_seq_len=48)
    assert all(isinstance(m, Int4Linear) for m in _linears(q).values())
    assert all((m.zeros is None) == symmetric for m in _linears(q).values())
    # int4 weights are ~20 dB (see tests/quant); through two layers the logits keep most of it.
    assert sqnr_db(ref(IDS), q(IDS)) > 15
    with torch.no_grad():
        for name, m in _linears(q).items():
            ref.get_submodule(name).weight.copy_(dequantize_int4(m.int4_weight()))
            ref.get_submodule(name).register_forward_pre_hook(lambda _m, args: (fake_quantize_activations(args[0]),))
    assert (q(IDS) - ref(IDS)).abs().max().item() <= 1e-5


def test_quantized_model_exports_one_op_per_linear(tmp_path, float_ckpt):
    quantize_checkpoint(float_ckpt, tmp_path / "q", TernaryConfig(group_size=256))
    q = load_model(tmp_path / "q", max_seq_len=16)
    ep = torch.export.export(Step(q), (torch.tensor([[5]]), torch.tensor([0])), strict=False)
    calls = [n for n in ep.graph.nodes if n.op == "call_function" and "ternary_linear" in str(n.target)]
    assert len(calls) == 7 * q.config.num_hidden_layers
    assert (ep.module()(torch.tensor([[5]]), torch.tensor([0])) - q(torch.tensor([[5]]), torch.tensor([0]))).abs().max() < 1e-5


# ---- bad input ----

def test_ternary_on_shapes_that_do_not_fit_names_the_tensor(tmp_path):
    ckpt = make_checkpoint(tmp_path / "fp", small_config())  # hidden 64: K is not a multiple of 256
    with pytest.raises(QuantError, match=r"model.safetensors: tensor 'model.layers.0.[a-z_.]+weight'.*not a multiple of 256"):
        quantize_checkpoint(ckpt, tmp_path / "q", TernaryConfig(group_size=32))
    assert not (tmp_path / "q").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["fp"]  # no half-written output


def test_int4_group_that_does_not_divide_k(tmp_path):
    cfg = small_config()
    cfg.intermediate_size = 144  # down_proj has K = 144: not a multiple of 32
    ckpt = make_checkpoint(tmp_path / "fp", cfg.validate())
    with pytest.raises(QuantError, match=r"tensor 'model.layers.0.mlp.down_proj.weight'.*K=144.*group size 32"):
        quantize_checkpoint(ckpt, tmp_path / "q", Int4Config(group_size=32))


def test_newer_quant_config_is_refused(tmp_path, float_ckpt):
    quantize_checkpoint(float_ckpt, tmp_path / "q", Int4Config(group_size=32))
    path = tmp_path / "q" / "quant_config.json"
    raw = json.loads(path.read_text()) | {"format_version": 2}
    path.write_text(json.dumps(raw))
    with pytest.raises(QuantError, match="format version 2 is newer than this edgecpm understands"):
        load_model(tmp_path / "q")


def test_corrupt_packed_file_is_named(tmp_path, float_ckpt):
    quantize_checkpoint(float_ckpt, tmp_path / "q", TernaryConfig(group_size=256))
    f = tmp_path / "q" / "model.safetensors"
    data = bytearray(f.read_bytes())
    data[-100] ^= 0xFF  # one flipped byte inside the packed weights
    f.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="model.safetensors: sha256 does not match quant_config.json"):
        load_model(tmp_path / "q")


def test_bad_scheme_values():
    with pytest.raises(QuantError, match="ternary group size 48"):
        TernaryConfig(group_size=48).validate()
    with pytest.raises(QuantError, match="int4 group size 256"):
        Int4Config(group_size=256).validate()
    with pytest.raises(QuantError, match="int4 method 'awq'"):
        Int4Config(method="awq").validate()


@pytest.mark.parametrize("kind", ["int8", "int4"])
@pytest.mark.parametrize("tied", [True, False])
def test_quantized_embeddings_and_head(tmp_path, kind, tied):
    from edgecpm.quant.linear import QuantizedEmbedding

    src = make_checkpoint(tmp_path / "fp", quant_config_shapes(tied=tied))
    quantize_checkpoint(src, tmp_path / "q", Int4Config(group_size=32, embeddings=kind))
    q = load_model(tmp_path / "q", max_seq_len=48)
    emb = q.model.embed_tokens
    assert isinstance(emb, QuantizedEmbedding) and emb.kind == kind
    if tied:  # one table, read both ways
        assert q.lm_head.qweight.data_ptr() == emb.qweight.data_ptr()
    # The float model with every quantized tensor dequantized (and int8 activations into the
    # int4 linears and the int8 or int4 head, as the ops define) gives the same logits.
    ref = load_model(src, max_seq_len=48)
    act_quant = lambda _m, args: (fake_quantize_activations(args[0]),)  # noqa: E731
    ref.lm_head.register_forward_pre_hook(act_quant)
    with torch.no_grad():
        for name, m in _linears(q).items():
            ref.get_submodule(name).weight.copy_(dequantize_int4(m.int4_weight()))
            ref.get_submodule(name).register_forward_pre_hook(act_quant)
        ids = torch.arange(ref.config.vocab_size).unsqueeze(0)
        ref.model.embed_tokens.weight.copy_(emb(ids)[0])
        if not tied:
            head = q.lm_head
            ref.lm_head.weight.copy_(head(torch.eye(head.in_features)).T)
    assert (q(IDS) - ref(IDS)).abs().max().item() <= 1e-4
