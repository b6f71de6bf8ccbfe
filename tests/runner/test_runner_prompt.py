"""edgecpm-runner BUNDLE --prompt TEXT: the runner encodes the prompt with the bundle's tokenizer,
BOS first, and generates the tokens Python's `edgecpm generate` does (greedy); --chat wraps it in
the same ChatML turn; the aarch64 build does the same under qemu. Prompt errors are one line."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from edgecpm.tokenizer.tokenizer import load_tokenizer
from tests.conftest import GREEDY_PROMPT
from tests.runner.test_runner import (AARCH64_LIBS, AARCH64_RUNNER, HOST_RUNNER, N, exported_for,
                                     expected_tokens, qemu, require)  # noqa: F401 (a fixture)

PROMPT_TEXT = "Raise ValueError if the"  # GREEDY_PROMPT, whose greedy steps have no near-ties
ERROR_PREFIX = "edgecpm-runner: error: "


def run_prompt(command: list[str], bundle: Path, *flags: str, env=None) -> tuple[str, dict]:
    res = subprocess.run([*command, str(bundle), *flags], capture_output=True, timeout=300, env=env)
    assert res.returncode == 0, res.stderr.decode(errors="replace")
    text, _, last = res.stdout.decode(errors="replace").removesuffix("\n").rpartition("\n")
    return text, json.loads(last)


def refusal(*args: str) -> str:
    res = subprocess.run([str(require(HOST_RUNNER, "kernels")), *args], capture_output=True, timeout=120)
    assert res.returncode == 1 and res.stdout == b"", (res.returncode, res.stdout, res.stderr)
    lines = res.stderr.decode(errors="replace").splitlines()
    assert len(lines) == 1 and lines[0].startswith(ERROR_PREFIX), lines
    return lines[0]


@pytest.mark.slow
def test_the_prompt_text_is_the_greedy_prompt(tiny_bundles):
    _, bundle = tiny_bundles["float"]
    assert load_tokenizer(bundle).encode(PROMPT_TEXT, bos=True) == GREEDY_PROMPT


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["float", "ternary"])
def test_prompt_text_gives_the_python_greedy_tokens(tiny_bundles, expected_tokens, scheme):
    ckpt, bundle = tiny_bundles[scheme]
    expected = expected_tokens(scheme, ckpt)
    text, stats = run_prompt([str(require(HOST_RUNNER, "kernels"))], bundle, "--prompt", PROMPT_TEXT, "-n", str(N))
    assert stats["prompt_tokens"] == len(GREEDY_PROMPT) and stats["tokens"] == expected
    tok = load_tokenizer(bundle)
    assert text == tok.decode([t for t in expected if t not in tok.eos_ids]).removesuffix("\n")


@pytest.mark.slow
def test_chat_wraps_the_prompt_as_python_generate_chat(tiny_bundles):
    from edgecpm.generate import generate
    from edgecpm.runtime.pte import PteModel

    _, bundle = tiny_bundles["float"]
    question = "What does 2 + 2 give? 你好"
    tok = load_tokenizer(bundle)
    ids = tok.chat([{"role": "user", "content": question}])
    expected = generate(PteModel(bundle), ids, 12, eos_ids=tok.eos_ids).tokens
    _, stats = run_prompt([str(require(HOST_RUNNER, "kernels"))], bundle, "--prompt", question, "--chat", "-n", "12")
    assert stats["prompt_tokens"] == len(ids) and stats["tokens"] == expected


@pytest.mark.slow
def test_aarch64_runner_under_qemu_encodes_the_prompt(tiny_bundles, expected_tokens, tmp_path):
    ckpt, bundle = tiny_bundles["float"]
    bundle = exported_for(bundle, "aarch64", tmp_path / "float")
    env = {**os.environ, "LD_LIBRARY_PATH": os.pathsep.join(map(str, AARCH64_LIBS))}
    command = [*qemu("cortex-a76"), str(require(AARCH64_RUNNER, "kernels-aarch64"))]
    _, stats = run_prompt(command, bundle, "--prompt", PROMPT_TEXT, "-n", str(N), env=env)
    assert stats["tokens"] == expected_tokens("float", ckpt)


@pytest.mark.slow
def test_prompt_errors_are_one_line(tiny_bundles, tmp_path):
    _, bundle = tiny_bundles["float"]
    assert "--chat wraps a text prompt" in refusal(str(bundle), "--prompt-ids", "1", "--chat")
    assert "pass one" in refusal(str(bundle), "--prompt", "x", "--prompt-ids", "1")
    assert "only when sampling" in refusal(str(bundle), "--prompt", "x", "--top-k", "3")
    assert "--top-p 0" in refusal(str(bundle), "--prompt", "x", "--temperature", "1", "--top-p", "0")
    assert "--seed expects" in refusal(str(bundle), "--prompt", "x", "--seed", "-1")
    assert "--temperature expects" in refusal(str(bundle), "--prompt", "x", "--temperature", "nan")
    assert "vocabulary of" in refusal(str(bundle), "--prompt", "x", "--temperature", "1", "--top-k", "100000")
    assert "--prompt: not UTF-8 text (byte 0xff at offset 2)" in refusal(str(bundle), "--prompt", b"ab\xff".decode(
        "utf-8", "surrogateescape"))
    # A bundle without its tokenizer: --prompt is refused naming the directory; ids still work.
    bare = tmp_path / "bare"
    bare.mkdir()
    for f in bundle.iterdir():
        if not f.name.startswith("tokenizer"):
            (bare / f.name).symlink_to(f)
    assert f"{bare}: no tokenizer.json or tokenizer.model" in refusal(str(bare), "--prompt", "x", "--no-verify")
