"""Deterministic byte mutations of a file, shared by the fuzz tests of the Python CLI and the runner.

Each kind of damage a file meets in practice: a truncation (an interrupted copy), flipped or
random bytes (a bad disk, a hostile edit), a zeroed run, and for text formats a swapped token.
The same seed always gives the same cases, so a failure names a case that can be replayed.
"""

from __future__ import annotations

import random
from typing import Iterator


def mutations(data: bytes, seed: int, count: int, window: int | None = None) -> Iterator[tuple[str, bytes]]:
    """``count`` mutated copies of ``data`` as (label, bytes). ``window``: mutate only the first
    ``window`` bytes (a program's flatbuffer header and plans, where a bad byte matters most)."""
    rng = random.Random(seed)
    span = max(1, min(len(data), window or len(data)))
    kinds = (_truncate, _random_bytes, _bit_flips, _zero_run, _int_field, _text_token)
    for i in range(count):
        kind = kinds[i % len(kinds)]
        label, out = kind(bytearray(data), span, rng)
        yield f"{i:03d}-{kind.__name__[1:]}-{label}", bytes(out)


def _truncate(b: bytearray, span: int, rng: random.Random):
    at = rng.randrange(0, max(1, len(b)))
    return f"at{at}", b[:at]


def _random_bytes(b: bytearray, span: int, rng: random.Random):
    n = rng.randint(1, 8)
    for _ in range(n):
        if b:
            b[rng.randrange(span)] = rng.randrange(256)
    return f"n{n}", b


def _bit_flips(b: bytearray, span: int, rng: random.Random):
    n = rng.randint(1, 4)
    for _ in range(n):
        if b:
            b[rng.randrange(span)] ^= 1 << rng.randrange(8)
    return f"n{n}", b


def _zero_run(b: bytearray, span: int, rng: random.Random):
    at = rng.randrange(span) if b else 0
    n = rng.randint(1, 64)
    b[at:at + n] = bytes(len(b[at:at + n]))
    return f"at{at}", b


def _int_field(b: bytearray, span: int, rng: random.Random):
    """A 4-byte little-endian field set to an extreme: sizes, counts and offsets in binary headers."""
    if len(b) < 4:
        return "short", b
    at = rng.randrange(0, max(1, min(span, len(b)) - 3))
    value = rng.choice((0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, len(b) + 1))
    b[at:at + 4] = value.to_bytes(4, "little")
    return f"at{at}v{value:x}", b


_TOKENS = (b'"', b"{", b"}", b"[", b"]", b",", b":", b"-1", b"1e308", b"null", b"true", b"\xff\xfe", b"0")


def _text_token(b: bytearray, span: int, rng: random.Random):
    """A JSON-ish token put in place of another: broken syntax, wrong types, invalid UTF-8."""
    at = rng.randrange(span) if b else 0
    tok = rng.choice(_TOKENS)
    b[at:at + rng.randint(0, 4)] = tok
    return f"at{at}", b
