"""Options against an exported program, whose KV cache and dtype were fixed at export: refused
when they cannot apply, and the limits named with the way out (re-export), never a traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from edgecpm.cli.app import app

pytestmark = pytest.mark.slow  # exports the tiny float program once per session (about a minute)


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def bundle(tiny_bundles):
    return tiny_bundles["float"][1]  # max_seq_len 96


def one_error_line(r, *messages):
    assert r.exit_code == 2, r.output
    # One error line (the runtime's own log lines are quietened elsewhere, issue 13's "Noise").
    assert [line.startswith("error: ") for line in r.output.splitlines()].count(True) == 1, r.output
    assert "Traceback" not in r.output, r.output
    for m in messages:
        assert m in r.output, r.output


def test_generate_refuses_what_a_program_fixed(bundle):
    one_error_line(invoke("generate", bundle, "-p", "Hello", "-n", 4, "--max-seq-len", 4096),
                   "--max-seq-len: ", "exported program", "re-export")
    one_error_line(invoke("generate", bundle, "-p", "Hello", "-n", 4, "--dtype", "bf16"),
                   "--dtype: ", "exported program")
    one_error_line(invoke("generate", bundle, "-p", "Hello", "-n", 200),
                   "was exported with max_seq_len 96", "re-export with `edgecpm export --max-seq-len 202`")
    r = invoke("generate", bundle, "-p", "Hello", "-n", 4)
    assert r.exit_code == 0 and r.output.startswith("Hello"), r.output


def test_eval_window_fits_the_program(bundle, tmp_path):
    text = tmp_path / "t.txt"
    text.write_text("Return a list of the items in the dictionary. " * 20)
    one_error_line(invoke("eval", bundle, "--corpus", text, "--ctx", 256),
                   "--ctx 256: ", "exported with max_seq_len 96", "use at most 96")
    r = invoke("eval", bundle, "--corpus", text)  # no --ctx: the program's 96
    assert r.exit_code == 0, r.output
    assert "ctx 96" in r.output
