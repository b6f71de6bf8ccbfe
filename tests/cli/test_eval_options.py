"""``edgecpm eval``: window and token counts within bounds, corpus files that are missing, empty
or not UTF-8, each one line naming the option."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from edgecpm.cli.app import app


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("args, message", [
    (["--ctx", 5000], "--ctx 5000: the model has 1024 positions"),
    (["--ctx", 0], "--ctx 0: must be at least 1"),
    (["--max-tokens", 0], "--max-tokens 0: must be at least 1"),
    (["--corpus", "/nonexistent.txt"], "--corpus /nonexistent.txt: no such file"),
    (["--dtype", "int3"], "--dtype 'int3': choose fp32, bf16 or fp16"),
])
def test_refused_with_one_line(args, message):
    r = invoke("eval", "tiny", *args)
    assert r.exit_code == 2, r.output
    assert r.output.count("\n") == 1 and message in r.output, r.output


def test_corpus_not_utf8_or_too_short(tmp_path):
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"na\xefve caf\xe9")
    r = invoke("eval", "tiny", "--corpus", latin)
    assert r.exit_code == 2 and "not UTF-8 text (byte 0xef at offset 2)" in r.output
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    r = invoke("eval", "tiny", "--corpus", empty)
    assert r.exit_code == 2 and "0 token(s); scoring needs at least 2" in r.output
