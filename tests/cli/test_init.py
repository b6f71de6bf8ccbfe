"""``edgecpm init --random`` writes a checkpoint the next command takes as it is: the tokenizer
comes with it (the tiny preset's own, or ``--tokenizer DIR``), or init says how to add one."""

from __future__ import annotations

import shutil

from typer.testing import CliRunner

from edgecpm.embedded import MODELS as EMBEDDED
from edgecpm.cli.app import app
from edgecpm.tokenizer.tokenizer import HOW_TO_ADD

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_init_tiny_then_generate(tmp_path):
    out = tmp_path / "D"
    r = invoke("init", "--preset", "tiny", "--random", "-o", out)
    assert r.exit_code == 0, r.output
    assert (out / "tokenizer.json").read_bytes() == (EMBEDDED["tiny"] / "tokenizer.json").read_bytes()
    r = invoke("generate", out, "-p", "Hi", "-n", "4")
    assert r.exit_code == 0, r.output
    assert r.output.startswith("Hi") and len(r.output) > len("Hi\n")


def test_minicpm4_preset_without_tokenizer_says_how_and_generate_says_the_same(tmp_path):
    out = tmp_path / "D"
    r = invoke("init", "--preset", "minicpm4-0.5b", "--random", "--layers", "1", "-o", out)
    assert r.exit_code == 0, r.output
    assert (out / "config.json").is_file() and not (out / "tokenizer.model").exists()
    assert r.output.strip().splitlines()[-1] == f"{out} has no tokenizer (the minicpm4-0.5b preset has none " \
                                                f"embedded); {HOW_TO_ADD}"
    r = invoke("generate", out, "-p", "Hi", "-n", "2")
    assert r.exit_code == 2
    assert r.output.strip().splitlines()[-1] == f"error: {out}: no tokenizer.json or tokenizer.model; {HOW_TO_ADD}"


def test_minicpm4_preset_with_the_real_tokenizer_generates(tmp_path, minicpm4_tokenizer_dir):
    out = tmp_path / "D"
    r = invoke("init", "--preset", "minicpm4-0.5b", "--random", "--layers", "1", "--tokenizer",
               minicpm4_tokenizer_dir, "-o", out)
    assert r.exit_code == 0, r.output
    assert "no tokenizer" not in r.output
    for name in ("tokenizer.model", "tokenizer_config.json", "added_tokens.json"):
        assert (out / name).read_bytes() == (minicpm4_tokenizer_dir / name).read_bytes()
    r = invoke("generate", out, "-p", "Hi", "-n", "2")
    assert r.exit_code == 0, r.output
    assert r.output.startswith("Hi")


def _refused(tmp_path, preset, tokenizer_dir):
    out = tmp_path / "D"
    r = invoke("init", "--preset", preset, "--random", "--tokenizer", tokenizer_dir, "-o", out)
    assert r.exit_code == 2
    assert len(r.output.strip().splitlines()) == 1 and r.output.startswith("error: ")
    assert not out.exists()  # refused before anything was written
    return r.output.strip()


def test_tokenizer_dir_is_checked_before_anything_is_written(tmp_path):
    assert _refused(tmp_path, "tiny", tmp_path / "absent") == (
        f"error: --tokenizer {tmp_path / 'absent'}: no such directory; pass the folder holding the model's "
        "tokenizer files")
    (tmp_path / "empty").mkdir()
    assert _refused(tmp_path, "tiny", tmp_path / "empty") == (
        f"error: --tokenizer {tmp_path / 'empty'}: no tokenizer.json or tokenizer.model; pass the folder holding "
        "the model's tokenizer files")
    # The tiny tokenizer (8192 ids) for a MiniCPM4 shape (73448): refused before 73448 rows are made.
    small = tmp_path / "small"
    small.mkdir()
    shutil.copy(EMBEDDED["tiny"] / "tokenizer.json", small)
    assert _refused(tmp_path, "minicpm4-0.5b", small) == (
        f"error: --tokenizer {small}: a 8192-token vocabulary, the model has 73448; pass the tokenizer made for "
        "this model")
    (small / "tokenizer.json").write_text("{not json")
    assert _refused(tmp_path, "tiny", small).startswith(f"error: {small / 'tokenizer.json'}: not a readable "
                                                        "tokenizer.json")
