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
