"""What every command shares: ``--version``, help text on every option, one meaning per option
name, and bounds on the numbers of the smaller commands (init, frspec, train-draft, demo)."""

from __future__ import annotations

import inspect
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edgecpm.cli.app import app

REPO = Path(__file__).resolve().parents[2]


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def _options():
    """(command, parameter, typer OptionInfo/ArgumentInfo) for every parameter of every command."""
    for c in app.registered_commands:
        for name, p in inspect.signature(c.callback).parameters.items():
            yield c.name or c.callback.__name__, name, p.default


def test_version_is_the_package_version():
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    r = invoke("--version")
    assert r.exit_code == 0 and r.output == f"edgecpm {version}\n"


def test_every_option_has_help_text():
    missing = [f"{cmd} {name}" for cmd, name, info in _options() if not getattr(info, "help", None)]
    assert missing == []


def test_short_options_mean_one_thing_everywhere():
    """-p is prompt text and -o an output path in every command that has them."""
    meanings = {"-p": set(), "-o": set()}
    for cmd, name, info in _options():
        for flag in getattr(info, "param_decls", None) or ():
            if flag in meanings and not getattr(info, "hidden", False):
                meanings[flag].add(name)
    assert meanings["-p"] == {"prompt"}
    assert meanings["-o"] == {"out"}


@pytest.mark.parametrize("args, message", [
    (["init", "--preset", "tiny", "--random", "--layers", 0], "--layers 0: must be at least 1"),
    (["init", "--preset", "tiny", "--random", "--seed", -1], "--seed -1: must be at least 0"),
    (["frspec", "tiny", "--corpus", "c.txt", "--size", 0], "--size 0: must be at least 1"),
    (["frspec", "tiny", "--corpus", "c.txt", "--size", 9000], "--size 9000: must be at most 8192"),
    (["frspec", "tiny", "--corpus", "missing.txt", "--size", 10], "--corpus missing.txt: no such file"),
    (["train-draft", "tiny", "--steps", 0], "--steps 0: must be at least 1"),
    (["train-draft", "tiny", "--batch", 0], "--batch 0: must be at least 1"),
    (["train-draft", "tiny", "--lr", 0], "--lr 0.0: must be above 0"),
    (["train-draft", "tiny", "--lr", "inf"], "--lr inf: must be a finite number"),
    (["train-draft", "tiny", "--unroll", 0], "--unroll 0: must be at least 1"),
    (["train-draft", "tiny", "--threads", 0], "--threads 0: must be at least 1"),
    (["train-draft", "tiny", "--seq", 5000], "--seq 5000: must be at most 1024"),
    (["train-draft", "tiny", "--corpus", "missing.txt"], "--corpus missing.txt: no such file"),
    (["export", "tiny", "--max-seq-len", 100000000], "--max-seq-len 100000000: the model has 1024 positions"),
    (["export", "tiny", "--format", "gguf", "--max-seq-len", 64], "--max-seq-len: only for --format pte"),
    (["export", "tiny", "--format", "onnx", "--no-sparse"], "--sparse/--no-sparse: only for --format pte"),
    (["demo", "-n", 0], "-n 0: must be at least 1"),
    (["demo", "-n", 500], "-n 500: must be at most 100"),
])
def test_refused_with_one_line_and_nothing_written(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.txt").write_text("def f():\n    return 1\n" * 20)
    out = ["-o", "out"] if args[0] != "demo" else []
    r = invoke(*args, *out)
    assert r.exit_code == 2, r.output
    assert r.output.count("\n") == 1 and message in r.output, r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.txt"]


def test_frspec_replaces_its_output_only_with_force(tmp_path):
    corpus, out = tmp_path / "c.txt", tmp_path / "fr.safetensors"
    corpus.write_text("def f():\n    return 1\n" * 20)
    out.write_text("someone's file")
    r = invoke("frspec", "tiny", "--corpus", corpus, "--size", 64, "-o", out)
    assert r.exit_code == 2 and "already exists; remove it or pass --force" in r.output
    assert out.read_text() == "someone's file"
    r = invoke("frspec", "tiny", "--corpus", corpus, "--size", 64, "-o", out, "--force")
    assert r.exit_code == 0, r.output
    from edgecpm.speculative.frspec import load_frspec

    assert load_frspec(out).ids.numel() == 64
