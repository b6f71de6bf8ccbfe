from __future__ import annotations

import json

import pytest

from edgecpm.errors import TokenizerError
from edgecpm.tokenizer.tokenizer import SentencePieceTokenizer, load_tokenizer

TEXTS = [
    "Hello world! The year 2025 had 365 days.",
    "  two leading spaces, a tab\there, and\nnew lines\n\n",
    "中文和English混合，还有emoji 🦄 and accents: déjà vu",
    "def f(x):\n    return x ** 2  # comment",
]


@pytest.fixture
def real(minicpm4_tokenizer_dir):
    return load_tokenizer(minicpm4_tokenizer_dir, bos_id=1, eos_ids=[2, 73440])


def test_real_minicpm4_tokenizer_round_trips(real):
    assert isinstance(real, SentencePieceTokenizer)
    assert real.vocab_size == 73448
    for text in TEXTS:
        ids = real.encode(text)
        assert all(0 <= i < 73448 for i in ids)
        assert real.decode(ids) == text


def test_real_tokenizer_splits_digits_and_added_tokens(real):
    # split_digits: every digit is its own piece.
    assert len(real.encode("12345")) >= 5
    ids = real.encode("<|im_start|>user\nhi<|im_end|><|fim_prefix|>")
    assert ids[0] == 73441 and 73440 in ids and ids[-1] == 73445
    assert real.decode(ids) == "<|im_start|>user\nhi<|im_end|><|fim_prefix|>"


def test_chatml_template_with_bos(real):
    ids = real.chat([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
    assert ids[0] == 1  # the template has no BOS: chat() adds it
    assert ids[1] == 73441
    assert real.decode(ids[1:]) == ("<|im_start|>system\nBe brief.<|im_end|>\n"
                                    "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")


def test_embedded_tokenizer_round_trips():
    from edgecpm.checkpoint.locate import resolve_model

    tok = load_tokenizer(resolve_model("tiny"))
    assert tok.vocab_size == 8192
    for text in TEXTS:
        assert tok.decode(tok.encode(text)) == text
    assert tok.encode("<|im_end|>") == [3]


def test_missing_and_corrupt_tokenizer_files(tmp_path):
    with pytest.raises(TokenizerError, match="no tokenizer.json or tokenizer.model"):
        load_tokenizer(tmp_path)
    (tmp_path / "tokenizer.model").write_bytes(b"garbage")
    with pytest.raises(TokenizerError, match="tokenizer.model: not a readable SentencePiece model"):
        load_tokenizer(tmp_path)
    (tmp_path / "tokenizer.json").write_text(json.dumps({"nope": 1}))
    with pytest.raises(TokenizerError, match="tokenizer.json: not a readable tokenizer.json"):
        load_tokenizer(tmp_path)
