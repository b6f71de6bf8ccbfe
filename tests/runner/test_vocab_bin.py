"""vocab.bin: per-id bytes that the C++ runner concatenates must spell what the tokenizer decodes."""

from __future__ import annotations

import pytest

from edgecpm.errors import TokenizerError
from edgecpm.export.vocab_bin import MAGIC, read_vocab_bin, token_bytes, write_vocab_bin
from edgecpm.tokenizer.tokenizer import load_tokenizer
from tests.conftest import REPO

TINY = REPO / "toolchain" / "edgecpm" / "assets" / "tiny"
TEXTS = [
    "Hello world! The year 2025 had 365 days.",
    "  two leading spaces, a tab\there, and\nnew lines\n\n",
    "中文和English混合，还有emoji 🦄 and accents: déjà vu",
    "<|im_start|>user\nhi<|im_end|>",
]


def _concat(pieces, ids) -> bytes:
    return b"".join(pieces[i] for i in ids)


@pytest.mark.parametrize("text", TEXTS)
def test_tiny_concatenated_bytes_equal_decode(tmp_path, text):
    tok = load_tokenizer(TINY)
    path = write_vocab_bin(TINY, tmp_path / "vocab.bin")
    pieces = read_vocab_bin(path)
    assert len(pieces) == tok.vocab_size
    ids = tok.encode(text, bos=True)
    assert _concat(pieces, ids) == tok.decode(ids).encode()


def test_tiny_every_single_token_matches_decode():
    # Tokens holding part of a character decode to U+FFFD alone; lossy-decoding our bytes agrees.
    tok = load_tokenizer(TINY)
    pieces = token_bytes(tok)
    assert all(pieces[i].decode("utf-8", "replace") == tok.decode([i]) for i in range(tok.vocab_size))


def test_file_layout_and_corruption(tmp_path):
    path = write_vocab_bin(load_tokenizer(TINY), tmp_path / "vocab.bin")
    data = path.read_bytes()
    assert data[:8] == MAGIC and int.from_bytes(data[8:12], "little") == 8192
    (tmp_path / "bad.bin").write_bytes(b"NOTVOCAB" + data[8:])
    with pytest.raises(TokenizerError, match="bad magic"):
        read_vocab_bin(tmp_path / "bad.bin")


def test_real_minicpm4_sentencepiece(minicpm4_tokenizer_dir, tmp_path):
    tok = load_tokenizer(minicpm4_tokenizer_dir, bos_id=1, eos_ids=[2, 73440])
    pieces = read_vocab_bin(write_vocab_bin(tok, tmp_path / "vocab.bin"))
    assert len(pieces) == tok.vocab_size
    for text in TEXTS:
        ids = tok.encode(text, bos=True)
        assert _concat(pieces, ids) == tok.decode(ids).encode()
