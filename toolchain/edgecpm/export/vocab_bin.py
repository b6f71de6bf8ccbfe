"""``vocab.bin``: each token id's decoded bytes, so the C++ runner can print text without a tokenizer.

The native runner (runtime_kernels/runner) has no Hugging Face / SentencePiece decoder. Decoding a
token stream is, for the tokenizers we ship, the concatenation of a fixed byte string per id, so
we precompute those strings here. Format (all integers little-endian)::

    magic   8 bytes  b"ECPMVOC1"
    count   u32      number of ids (= vocab size); ids are 0 .. count-1
    count × { length u32, bytes[length] }   the id's raw UTF-8 (possibly partial) bytes

A token's bytes need not be valid UTF-8 alone (byte-level BPE and byte-fallback split characters
across tokens); the runner buffers incomplete sequences until they complete.

Mappings:
* byte-level BPE (GPT-2 style, the tiny model): each character of the token string stands for one
  byte through GPT-2's printable byte alphabet; invert that alphabet.
* SentencePiece (MiniCPM4), or an HF tokenizer in SentencePiece style: "▁" is a space and a
  ``<0xNN>`` piece is the byte NN. The leading space SentencePiece strips at the very start of a
  decoded text is kept: the runner prints continuations, where the space is real.
* special / added tokens: their text, as ``decode(..., skip_special_tokens=False)`` shows them;
  SentencePiece control pieces (<s>, </s>) decode to nothing, so they get no bytes.
"""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

from edgecpm.errors import TokenizerError
from edgecpm.tokenizer.tokenizer import HFTokenizer, SentencePieceTokenizer, Tokenizer, load_tokenizer

MAGIC = b"ECPMVOC1"
_BYTE_PIECE = re.compile(r"<0x([0-9A-Fa-f]{2})>")
_SPACE_MARK = "\u2581"  # SentencePiece's "▁"


def byte_level_alphabet() -> dict[str, int]:
    """GPT-2 byte-level BPE's character → byte map.

    Bytes that are printable, non-space Latin-1 characters stand for themselves; the other 68
    (controls, space, 0x7F-0xA0, 0xAD) are moved, in byte order, to code points 256, 257, …
    so every token string is printable.
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    char_of = {b: chr(b) for b in printable}
    moved = 0
    for b in range(256):
        if b not in char_of:
            char_of[b] = chr(256 + moved)
            moved += 1
    return {c: b for b, c in char_of.items()}


def _sentencepiece_bytes(piece: str) -> bytes:
    m = _BYTE_PIECE.fullmatch(piece)
    if m:
        return bytes([int(m.group(1), 16)])
    return piece.replace(_SPACE_MARK, " ").encode()


def _hf_token_bytes(tok: HFTokenizer) -> list[bytes]:
    raw = tok._tok  # the `tokenizers.Tokenizer`
    spec = json.loads(raw.to_str())
    decoder = spec.get("decoder") or {}
    steps = decoder.get("decoders", [decoder]) if decoder.get("type") == "Sequence" else [decoder]
    kinds = {d.get("type") for d in steps}
    added = {a["id"]: a["content"] for a in spec.get("added_tokens", [])}
    n = raw.get_vocab_size(with_added_tokens=True)
    if "ByteLevel" in kinds:
        alphabet = byte_level_alphabet()

        def of(piece: str) -> bytes:
            return bytes(alphabet[c] for c in piece)
    elif kinds & {"Metaspace", "Replace", "ByteFallback"}:
        of = _sentencepiece_bytes
    else:
        raise TokenizerError(f"tokenizer decoder {sorted(k for k in kinds if k)} is not supported by "
                             "vocab.bin (byte-level BPE or SentencePiece style only)")
    out = []
    for i in range(n):
        if i in added:
            out.append(added[i].encode())
            continue
        piece = raw.id_to_token(i)
        out.append(b"" if piece is None else of(piece))
    return out


def _sp_token_bytes(tok: SentencePieceTokenizer) -> list[bytes]:
    sp = tok._sp
    out = []
    for i in range(tok.vocab_size):
        if i in tok._added_by_id:
            out.append(tok._added_by_id[i].encode())
        elif i >= sp.GetPieceSize() or sp.IsControl(i):
            out.append(b"")  # decode() drops control pieces; ids past the model are unused padding
        elif sp.IsUnknown(i):
            out.append(sp.DecodeIds([i]).encode())  # SentencePiece's own rendering (" ⁇ ")
        else:
            out.append(_sentencepiece_bytes(sp.IdToPiece(i)))
    return out


def token_bytes(tokenizer: Tokenizer) -> list[bytes]:
    """Each id's bytes, index = id."""
    if isinstance(tokenizer, HFTokenizer):
        return _hf_token_bytes(tokenizer)
    if isinstance(tokenizer, SentencePieceTokenizer):
        return _sp_token_bytes(tokenizer)
    raise TokenizerError(f"vocab.bin: unsupported tokenizer type {type(tokenizer).__name__}")


def write_vocab_bin(tokenizer: str | Path | Tokenizer, path: str | Path) -> Path:
    """Write ``vocab.bin`` for a tokenizer (or a directory holding one) to ``path``."""
    if not isinstance(tokenizer, Tokenizer):
        tokenizer = load_tokenizer(tokenizer)
    pieces = token_bytes(tokenizer)
    path = Path(path)
    with open(path, "wb") as f:
        f.write(MAGIC + struct.pack("<I", len(pieces)))
        for piece in pieces:
            f.write(struct.pack("<I", len(piece)) + piece)
    return path


def read_vocab_bin(path: str | Path) -> list[bytes]:
    """The inverse of ``write_vocab_bin`` (tests, and a Python check of what the runner sees)."""
    data = Path(path).read_bytes()
    if data[:8] != MAGIC:
        raise TokenizerError(f"{path}: not a vocab.bin (bad magic); re-run `edgecpm export`")
    (count,) = struct.unpack_from("<I", data, 8)
    pieces, at = [], 12
    for _ in range(count):
        (n,) = struct.unpack_from("<I", data, at)
        pieces.append(data[at + 4: at + 4 + n])
        at += 4 + n
    if at != len(data):
        raise TokenizerError(f"{path}: {len(data) - at} trailing bytes; the file is corrupt")
    return pieces
