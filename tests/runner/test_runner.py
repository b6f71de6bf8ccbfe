"""edgecpm-runner (runtime_kernels/runner): the native C++ runner gives Python's greedy tokens.

The tiny model's float, int4 and ternary bundles (tests/conftest.py ``TinyBundles``) are run by
the host runner and, under qemu, by the aarch64 runner on a Cortex-A76 (NEON dot product) and a
Cortex-A53 (plain NEON): the .pte is architecture independent, only the kernels library differs.
Each must give the eager model's greedy tokens. The binaries are build outputs; a missing one fails (it is a build step to run, not an
optional feature).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from edgecpm.tokenizer.tokenizer import load_tokenizer
from tests.conftest import GREEDY_PROMPT, REPO, greedy_reference

HOST_RUNNER = REPO / "build" / "kernels" / "host" / "edgecpm-runner"
AARCH64_RUNNER = REPO / "build" / "kernels" / "aarch64" / "edgecpm-runner"
UTF8_CHECK = REPO / "build" / "kernels" / "host" / "edgecpm_utf8_stream_check"
# The aarch64 wheel's runtime and our aarch64 kernels (libedgecpm_kernels.so) for the dynamic loader.
AARCH64_LIBS = [REPO / "build" / "executorch-aarch64" / "executorch" / "lib", REPO / "build" / "kernels" / "aarch64"]
PROMPT = GREEDY_PROMPT
N = 32


def require(binary, make_target: str):
    if not binary.is_file():
        pytest.fail(f"{binary} is not built: run `make {make_target}`")
    return binary


def qemu(cpu: str) -> list[str]:
    exe = shutil.which("qemu-aarch64")
    if exe is None:
        pytest.fail("qemu-aarch64 is not installed: apt-get install qemu-user (see .ci/run)")
    return [exe, "-L", "/usr/aarch64-linux-gnu", "-cpu", cpu]


def exported_for(bundle: Path, arch: str, where: Path) -> Path:
    """`bundle` as if exported for `arch`: symlinks to its files and a manifest saying so. The
    program is architecture independent (only the bundled kernel library is not, and the runner
    uses its own), so the aarch64 runner under qemu runs the host bundles this way; the runner
    refuses a bundle whose manifest names another architecture."""
    where.mkdir(parents=True, exist_ok=True)
    for f in bundle.iterdir():
        if f.name != "manifest.json":
            (where / f.name).symlink_to(f)
    manifest = json.loads((bundle / "manifest.json").read_text())
    (where / "manifest.json").write_text(json.dumps({**manifest, "arch": arch}))
    return where


def run_runner(command: list[str], bundle, env=None, timeout=300) -> tuple[str, dict]:
    """Runs the runner on `bundle`; returns (streamed text, the final JSON line)."""
    res = subprocess.run([*command, "--model", str(bundle / "model.pte"), "--vocab", str(bundle / "vocab.bin"),
                          "--prompt-ids", ",".join(map(str, PROMPT)), "-n", str(N)],
                         capture_output=True, timeout=timeout, env=env)
    assert res.returncode == 0, res.stderr.decode(errors="replace")
    # The JSON line follows the text, after a newline the runner adds when the text lacks one.
    text, _, last = res.stdout.decode(errors="replace").removesuffix("\n").rpartition("\n")
    return text, json.loads(last)


@pytest.fixture(scope="module")
def expected_tokens():
    """Greedy tokens of each scheme's eager model (the Python reference ops)."""
    cache = {}

    def get(scheme, ckpt):
        if scheme not in cache:
            import torch

            from edgecpm.checkpoint.loader import load_model

            cache[scheme] = greedy_reference(load_model(ckpt, dtype=torch.float32, max_seq_len=96), PROMPT, N)
        return cache[scheme]
    return get


def test_missing_pte_exits_nonzero_naming_the_file(tmp_path):
    missing = tmp_path / "no-bundle" / "model.pte"
    res = subprocess.run([str(require(HOST_RUNNER, "kernels")), "--model", str(missing), "--prompt-ids", "1,2",
                          "--stats-only"], capture_output=True, text=True, timeout=60)
    assert res.returncode != 0
    assert str(missing) in res.stderr and "no such program file" in res.stderr


def test_corrupt_pte_exits_nonzero_naming_the_file(tmp_path):
    bad = tmp_path / "model.pte"
    bad.write_bytes(b"\0" * 64)
    res = subprocess.run([str(require(HOST_RUNNER, "kernels")), "--model", str(bad), "--prompt-ids", "1",
                          "--stats-only", "--no-verify"], capture_output=True, text=True, timeout=60)
    assert res.returncode != 0 and f"{bad}: not a readable ExecuTorch program" in res.stderr


def test_streamed_text_holds_split_utf8_characters():
    res = subprocess.run([str(require(UTF8_CHECK, "kernels"))], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and " 0 failures" in res.stdout, res.stdout


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["float", "int4", "ternary"])
def test_host_runner_matches_eager(tiny_bundles, expected_tokens, scheme):
    ckpt, bundle = tiny_bundles[scheme]
    expected = expected_tokens(scheme, ckpt)
    text, stats = run_runner([str(require(HOST_RUNNER, "kernels"))], bundle)
    assert stats["tokens"] == expected
    assert stats["prompt_tokens"] == len(PROMPT) and stats["generated_tokens"] == len(expected)
    assert stats["decode_tok_s"] > 0 and stats["peak_rss_mb"] > 0
    # The text comes from vocab.bin; it must read as the tokenizer's decode (eos not printed).
    tok = load_tokenizer(bundle)
    decoded = tok.decode([t for t in expected if t not in tok.eos_ids])
    assert text == decoded.removesuffix("\n")


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["float", "int4", "ternary"])
@pytest.mark.parametrize("cpu", ["cortex-a76", "cortex-a53"])
def test_aarch64_runner_under_qemu_matches_eager(tiny_bundles, expected_tokens, scheme, cpu, tmp_path):
    ckpt, bundle = tiny_bundles[scheme]
    bundle = exported_for(bundle, "aarch64", tmp_path / scheme)
    expected = expected_tokens(scheme, ckpt)
    env = {**os.environ, "LD_LIBRARY_PATH": os.pathsep.join(map(str, AARCH64_LIBS))}
    _, stats = run_runner([*qemu(cpu), str(require(AARCH64_RUNNER, "kernels-aarch64"))], bundle, env=env)
    assert stats["tokens"] == expected
