"""The committed tiny model: that it is what the README says, and that its numbers are real."""

from __future__ import annotations

import json
import re

import pytest
import torch

from edgecpm.checkpoint.loader import load_model
from edgecpm.checkpoint.locate import resolve_model
from edgecpm.eval.perplexity import perplexity
from edgecpm.generate import generate
from edgecpm.model.presets import preset
from edgecpm.tiny.corpus import corpus_fingerprint, split_text, stdlib_documents
from edgecpm.tokenizer.tokenizer import load_tokenizer


@pytest.fixture(scope="module")
def tiny():
    path = resolve_model("tiny")
    model = load_model(path, max_seq_len=512)
    tok = load_tokenizer(path, model.config.bos_token_id, model.config.eos_token_id)
    return path, model, tok, json.loads((path / "training.json").read_text())


@pytest.fixture(scope="module")
def corpus():
    return split_text(stdlib_documents())


def test_shape_is_the_tiny_preset(tiny):
    _, model, _, report = tiny
    want = preset("tiny")
    assert model.config == want
    assert report["parameters"] == sum(p.numel() for p in model.parameters())
    assert (model.config.scale_emb, model.config.dim_model_base) == (12.0, 64)  # muP quirks present


def test_held_out_perplexity_is_the_recorded_one(tiny, corpus):
    _, model, tok, report = tiny
    train, held = corpus
    if corpus_fingerprint(train, held)["held_out_sha256"] != report["corpus"]["held_out_sha256"]:
        pytest.skip(f"this Python's stdlib differs from the training corpus ({report['corpus']['python']})")
    ids = torch.tensor(tok.encode(held), dtype=torch.long)
    got = perplexity(model, ids, ctx=report["hyperparameters"]["seq"]).ppl
    assert got == pytest.approx(report["held_out_ppl"], rel=1e-3)
    # And it learned something: a uniform guess over 8192 tokens scores 8192.
    assert got < 100


def test_greedy_text_is_made_of_corpus_words(tiny, corpus):
    _, model, tok, _ = tiny
    vocabulary = set(re.findall(r"[A-Za-z]+", corpus[0]))
    res = generate(model, tok.encode("This function returns", bos=True), 40)
    words = re.findall(r"[A-Za-z]+", tok.decode(res.tokens))
    assert len(words) >= 10
    known = sum(w in vocabulary for w in words) / len(words)
    assert known > 0.9, tok.decode(res.tokens)


def test_split_is_disjoint_and_about_five_percent():
    docs = stdlib_documents()
    held = [d for d in docs if d.held_out]
    assert 0.02 < len(held) / len(docs) < 0.08
    assert not {d.name for d in held} & {d.name for d in docs if not d.held_out}


@pytest.fixture(scope="module")
def twin():
    path = resolve_model("tiny-ternary")
    return path, load_model(path, dtype=torch.float32, max_seq_len=256), json.loads((path / "training.json").read_text())


def test_ternary_twin_is_a_fake_quantised_bitcpm_checkpoint(twin):
    from edgecpm.model.minicpm import is_block_linear
    from edgecpm.quant.ternary import detect_ternary
    from edgecpm.quant.tq import pack_ternary

    path, model, report = twin
    assert json.loads((path / "config.json").read_text())["torch_dtype"] == "bfloat16"
    linears = {n: m for n, m in model.named_modules() if is_block_linear(n)}
    assert len(linears) == 28
    for name, m in linears.items():
        w = m.weight.to(torch.bfloat16)  # as stored
        tw = detect_ternary(w)
        assert tw is not None, name
        assert tw.group_size % 256 == 0, name  # QAT groups of 256 (per-channel where K = 256)
        assert pack_ternary(tw).self_contained, name  # plain llama.cpp TQ2_0 bytes


def test_ternary_twin_perplexity_is_the_recorded_one(twin, tiny, corpus):
    _, model, report = twin
    _, _, tok, _ = tiny
    if corpus_fingerprint(*corpus)["held_out_sha256"] != report["corpus"]["held_out_sha256"]:
        pytest.skip("this Python's stdlib differs from the training corpus")
    ids = torch.tensor(tok.encode(corpus[1]), dtype=torch.long)
    got = perplexity(model, ids, ctx=256).ppl
    assert got == pytest.approx(report["held_out_ppl"], rel=1e-3)
    assert got < 100 < report["held_out_ppl_ternary_before_qat"]  # QAT recovered what PTQ destroyed
