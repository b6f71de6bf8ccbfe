"""What ``friendly_errors`` prints and what it lets through: a user's mistake is one ``error:`` line
and exit code 2; a bug in edgecpm (a ValueError, an assertion) keeps its traceback."""

from __future__ import annotations

import ast
import traceback
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import edgecpm.generate
from edgecpm.embedded import MODELS as EMBEDDED
from edgecpm.cli.app import app
from edgecpm.errors import CheckpointError, OutputPathError, UsageError

CLI_DIR = Path(edgecpm.cli.app.__file__).parent
EMBEDDED_TINY = EMBEDDED["tiny"]


def _generate_raising(monkeypatch, exc: BaseException):
    """``edgecpm generate tiny`` whose decoding loop raises ``exc`` (the command imports it late)."""
    def broken_decoding_loop(*args, **kwargs):
        raise exc

    monkeypatch.setattr(edgecpm.generate, "generate", broken_decoding_loop)
    return CliRunner().invoke(app, ["generate", "tiny", "-p", "Return", "-n", "2"])


@pytest.mark.parametrize("exc", [UsageError("--x 1: pick 2"), CheckpointError("m: damaged; re-download it"),
                                 OutputPathError("-o f: a directory"), typer.BadParameter("--x 1: pick 2"),
                                 FileExistsError("out: already exists; pass --force")],
                         ids=lambda e: type(e).__name__)
def test_a_user_error_is_one_line_and_exit_2(monkeypatch, exc):
    r = _generate_raising(monkeypatch, exc)
    assert r.exit_code == 2, r.output
    assert r.output.strip().splitlines()[-1] == f"error: {exc}"
    assert "Traceback" not in r.output and "Usage:" not in r.output and "╭" not in r.output


@pytest.mark.parametrize("exc", [ValueError("cache of 4 slots"), AssertionError("tree not compacted"),
                                 KeyError("lm_head.weight")], ids=lambda e: type(e).__name__)
def test_a_library_bug_keeps_its_traceback(monkeypatch, exc):
    r = _generate_raising(monkeypatch, exc)
    assert r.exception is exc and r.exit_code == 1
    assert "error:" not in r.output
    # The traceback ends where the bug is, not in friendly_errors.
    assert traceback.extract_tb(r.exc_info[2])[-1].name == "broken_decoding_loop"


def test_a_bad_flag_is_one_plain_line():
    r = CliRunner().invoke(app, ["generate", "tiny", "-p", "x", "-n", "0"])
    assert r.exit_code == 2
    assert r.output == "error: -n/--max-new-tokens 0: must be at least 1\n"


def test_the_cli_layer_raises_no_value_error():
    """A ValueError is a bug now (it shows a traceback), so the CLI's checks must not raise one."""
    found = []
    for path in sorted(CLI_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and node.exc is not None:
                call = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                if isinstance(call, ast.Name) and call.id == "ValueError":
                    found.append(f"{path.name}:{node.lineno}")
    assert not found, f"raise ValueError in the CLI layer (use typer.BadParameter or an EdgecpmError): {found}"


def test_damaged_files_that_python_reads_as_value_errors_are_user_errors(tmp_path):
    """float("x"), int("x"), bad UTF-8 and bad JSON are ValueErrors inside Python; from a user's
    file they are that file's fault, so the loaders name it (they once relied on the catch-all)."""
    import json

    from edgecpm.errors import CheckpointError, ConfigError, QuantError, TokenizerError
    from edgecpm.model.config import MiniCPMConfig
    from edgecpm.quant.config import read_quant_config
    from edgecpm.tokenizer.tokenizer import _added_tokens

    raw = json.loads((EMBEDDED_TINY / "config.json").read_text())
    raw["rope_scaling"]["short_factor"][0] = "x"
    with pytest.raises(ConfigError, match="rope_scaling holds a value that is not a number"):
        MiniCPMConfig.from_hf_dict(raw, source="config.json")
    (tmp_path / "quant_config.json").write_bytes(b'{"scheme": "\xff"}')
    with pytest.raises(QuantError, match="not valid JSON"):
        read_quant_config(tmp_path)
    (tmp_path / "tokenizer_config.json").write_text('{"added_tokens_decoder": {"x": {"content": "<a>"}}}')
    with pytest.raises(TokenizerError, match="tokenizer_config.json: not a tokenizer config"):
        _added_tokens(tmp_path)
    from edgecpm.speculative.draft import load_draft

    (tmp_path / "draft.json").write_bytes(b"\xff{")
    with pytest.raises(CheckpointError, match="draft.json: not valid JSON"):
        load_draft(tmp_path, MiniCPMConfig.from_hf_dict(json.loads((EMBEDDED_TINY / "config.json").read_text())))
