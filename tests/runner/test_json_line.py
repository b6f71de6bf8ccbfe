"""The serving runner's JSON strings from token bytes (runtime_kernels/runner/json_line.h): valid
JSON and UTF-8 whatever the bytes, and the text Python's bytes.decode("utf-8", errors="replace")
gives (one U+FFFD per maximal invalid subpart), checked through edgecpm_json_line_check."""

from __future__ import annotations

import json
import random
import subprocess

import pytest

from tests.runner.test_runner import REPO, require

CHECK = REPO / "build" / "kernels" / "host" / "edgecpm_json_line_check"

CASES = [
    b"", b"plain text", "héllo 漢字 😀 \u2028".encode(), bytes(range(0x20)) + b'"\\/\x7f',
    b"\xe2\x82", b"\xe2\x82\xac\xe2", b"\xf0\x9f\x98", b"\xc0\x80", b"\xe0\x80\x80", b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80", b"\xf5\xff\xfe", b"\x80\xbf", b"a\xc3(b", b"\xf0\x9f\x98\x80\xf0\x9f",
]


def json_line(data: bytes) -> bytes:
    res = subprocess.run([str(require(CHECK, "kernels"))], input=data, capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return res.stdout


@pytest.mark.parametrize("data", CASES + [random.Random(seed).randbytes(64) for seed in range(40)])
def test_json_string_decodes_as_python_replaces(data):
    out = json_line(data)
    text = out.decode("utf-8")  # strict: the line itself is valid UTF-8
    assert not any(ord(c) < 0x20 for c in text)  # control characters are escaped
    assert json.loads(text) == data.decode("utf-8", errors="replace")
