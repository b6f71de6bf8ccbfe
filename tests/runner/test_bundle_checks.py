"""edgecpm-runner checks a bundle as Python's PteModel does before loading it: manifest.json's target
architecture and every file's sha256 (--no-verify skips both), and bounds every number it is
given: prompt length + -n against max_seq_len, prompt ids against the vocabulary, -t, --tree.
Each refusal is one ``edgecpm-runner: error:`` line naming the file or option, and exit status 1.

Its SHA-256 and JSON reader are its own (runtime_kernels/runner/sha256.cpp, json_reader.cpp):
checked here against hashlib and json on the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import random
import subprocess

import pytest

from tests.conftest import REPO
from tests.fuzz.mutations import mutations
from tests.runner.test_runner import HOST_RUNNER, exported_for, require

SHA256_CHECK = REPO / "build" / "kernels" / "host" / "edgecpm_sha256_check"
JSON_CHECK = REPO / "build" / "kernels" / "host" / "edgecpm_json_reader_check"


def runner(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(require(HOST_RUNNER, "kernels")), *map(str, args)], capture_output=True, text=True,
                          timeout=60)


def refusal(*args: str) -> str:
    """The runner's one error line for `args` (asserting it is one line and the exit status 1)."""
    res = runner(*args)
    assert res.returncode == 1, (res.returncode, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("edgecpm-runner: error: "), res.stderr
    return lines[0]


def test_sha256_matches_hashlib(tmp_path):
    rng = random.Random(0)
    # Empty, the padding edges (55/56/63/64 bytes), several blocks, and more than its 1 MiB buffer.
    sizes = [0, 1, 3, 55, 56, 63, 64, 65, 119, 120, 128, 1000, (1 << 20) + 17]
    files = []
    for n in sizes:
        f = tmp_path / f"data-{n}"
        f.write_bytes(bytes(rng.randrange(256) for _ in range(n)) if n < 5000 else os.urandom(n))
        files.append(f)
    res = subprocess.run([str(require(SHA256_CHECK, "kernels")), *map(str, files)], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    got = [line.split("  ")[0] for line in res.stdout.splitlines()]
    assert got == [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]


def json_reader(path) -> tuple[bool, str]:
    res = subprocess.run([str(require(JSON_CHECK, "kernels")), str(path)], capture_output=True, timeout=60)
    assert res.returncode in (0, 1), res
    return res.returncode == 0, res.stdout.decode("utf-8", "surrogatepass")


JSON_CASES = [
    b'{"a": 1, "b": [true, false, null], "c": {"d": -0.5e-3, "e": ""}}', b"[]", b"{}", b' 7 ', b'"x"',
    b'{"s": "tab\\t nl\\n quote\\" slash\\/ back\\\\ u\\u00e9 pair\\ud83d\\ude00 lone\\ud800"}',
    '{"utf8": "caf\u00e9 \u4e2d"}'.encode(), b'[NaN, Infinity, -Infinity, 1E+2, 0, -0]', b'{"a": 1, "a": 2}',
    # Refused by both:
    b"", b"{", b"[1,]", b'{"a" 1}', b"01", b"1.", b"-", b'"\x01"', b'"\\x"', b'"\\u12"', b"[1] x", b"\xef\xbb\xbf{}",
    b'"\xff"', b'"\xc0\xaf"', b'"\xed\xa0\x80"', b"tru", b"{'a': 1}",
]


def test_json_reader_agrees_with_python(tmp_path):
    """Same value or same refusal as json.loads, on hand-picked cases and on mutations of a real
    manifest-shaped document; deep nesting is refused (both: Python by its recursion limit)."""
    doc = json.dumps({"manifest_version": 1, "arch": "x86_64", "max_seq_len": 96,
                      "config": {"vocab_size": 8192, "rope_scaling": {"short_factor": [1.0004, 1.06]}},
                      "sha256": {"model.pte": "0" * 64}}, indent=2).encode()
    cases = JSON_CASES + [data for _, data in mutations(doc, seed=11, count=300)]
    f = tmp_path / "case.json"
    for data in cases:
        f.write_bytes(data)
        try:
            want = json.loads(data.decode("utf-8"))
        except (ValueError, RecursionError):
            want = "refused"
        ok, out = json_reader(f)
        got = json.loads(out) if ok else "refused"
        # Compared as text: NaN is not equal to itself.
        assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True), data
    # Python nests until its recursion limit; the reader stops at 64 levels, far past a manifest's 4.
    f.write_bytes(b"[" * 64 + b"]" * 64)
    assert json_reader(f)[0]
    f.write_bytes(b"[" * 100000 + b"]" * 100000)
    assert json_reader(f) == (False, "error: offset 65: nested more than 64 levels deep\n")


@pytest.fixture(scope="module")
def bundle(tiny_bundles):
    return tiny_bundles["int4"][1]


def bundle_copy(bundle, where, **manifest_changes):
    """Symlinks to `bundle`'s files and a manifest with `manifest_changes` (None deletes a key)."""
    where.mkdir()
    for f in bundle.iterdir():
        if f.name != "manifest.json":
            (where / f.name).symlink_to(f)
    manifest = json.loads((bundle / "manifest.json").read_text())
    for key, value in manifest_changes.items():
        if value is None:
            manifest.pop(key)
        else:
            manifest[key] = value
    (where / "manifest.json").write_text(json.dumps(manifest))
    return where


PROMPT = ("--prompt-ids", "1,2", "--stats-only", "-n", "2")


@pytest.mark.slow
def test_an_intact_bundle_runs_verified(bundle):
    res = runner("--model", bundle / "model.pte", *PROMPT)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout.splitlines()[-1])["verify_ms"] > 0


@pytest.mark.slow
def test_missing_or_checksumless_manifest_is_refused(bundle, tmp_path):
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "model.pte").symlink_to(bundle / "model.pte")
    err = refusal("--model", bare / "model.pte", *PROMPT)
    assert f"{bare}/manifest.json: cannot read the bundle's manifest" in err and "--no-verify" in err
    assert runner("--model", bare / "model.pte", *PROMPT, "--no-verify").returncode == 0

    for name, change in (("none", None), ("empty", {})):
        where = bundle_copy(bundle, tmp_path / name, sha256=change)
        err = refusal("--model", where / "model.pte", *PROMPT)
        assert f"{where}/manifest.json: has no sha256 checksums" in err and "re-run `edgecpm export`" in err
    where = bundle_copy(bundle, tmp_path / "no-program", sha256={"vocab.bin": "0" * 64})
    assert f"{where}/manifest.json: has no sha256 for model.pte" in refusal("--model", where / "model.pte", *PROMPT)

    broken = tmp_path / "broken"
    bundle_copy(bundle, broken)
    (broken / "manifest.json").write_text('{"sha256": ')
    err = refusal("--model", broken / "model.pte", *PROMPT)
    assert f"{broken}/manifest.json: not valid JSON (offset 11: unexpected end of text)" in err


@pytest.mark.slow
def test_hostile_manifest_fields_are_refused(bundle, tmp_path):
    cases = {"traversal": dict(sha256={"model.pte": "0" * 64, "../../etc/passwd": "0" * 64}),
             "not-hex": dict(sha256={"model.pte": "xyz"}),
             "seq-len": dict(max_seq_len="96"), "newer": dict(manifest_version=99),
             "mismatch": dict(max_seq_len=4096)}
    errors = {name: refusal("--model", bundle_copy(bundle, tmp_path / name, **c) / "model.pte", *PROMPT)
              for name, c in cases.items()}
    assert 'its sha256 entry for "../../etc/passwd" is not a file name' in errors["traversal"]
    assert 'its sha256 entry for "model.pte" is not a file name with 64 hex digits' in errors["not-hex"]
    assert '"max_seq_len" is missing or not a positive integer' in errors["seq-len"]
    assert "written by a newer edgecpm (manifest_version 99)" in errors["newer"]
    assert "says max_seq_len 4096 and vocab_size 8192 but" in errors["mismatch"]
    assert "has 96 and 8192: they are from different exports" in errors["mismatch"]


@pytest.mark.slow
def test_changed_or_missing_files_fail_their_checksum(bundle, tmp_path):
    where = bundle_copy(bundle, tmp_path / "changed")
    (where / "vocab.bin").unlink()
    data = bytearray((bundle / "vocab.bin").read_bytes())
    data[-1] ^= 1
    (where / "vocab.bin").write_bytes(bytes(data))
    err = refusal("--model", where / "model.pte", *PROMPT)
    assert f"{where}/vocab.bin: its sha256 does not match manifest.json (truncated or modified)" in err
    # --no-verify skips the checksums (and --stats-only does not read vocab.bin).
    assert runner("--model", where / "model.pte", *PROMPT, "--no-verify").returncode == 0

    (where / "tokenizer.json").unlink()
    (where / "vocab.bin").unlink()
    (where / "vocab.bin").symlink_to(bundle / "vocab.bin")
    err = refusal("--model", where / "model.pte", *PROMPT)
    assert f"{where}/tokenizer.json: listed in manifest.json but missing or unreadable" in err


@pytest.mark.slow
def test_a_bundle_for_another_architecture_is_refused(bundle, tmp_path):
    here = platform.machine()
    other = "aarch64" if here == "x86_64" else "x86_64"
    where = exported_for(bundle, other, tmp_path / "other")
    manifest = json.loads((where / "manifest.json").read_text())
    (where / "manifest.json").write_text(json.dumps({**manifest, "target": "jetson"}))
    err = refusal("--model", where / "model.pte", *PROMPT)
    assert f"{where}: exported for {other} (--target jetson); this runner is built for {here}" in err
    assert "--target host" in err
    assert runner("--model", where / "model.pte", *PROMPT, "--no-verify").returncode == 0


@pytest.mark.slow
def test_numbers_from_the_command_line_are_bounded(bundle, tmp_path):
    pte = bundle / "model.pte"
    assert "prompt token id 8192 is outside the vocabulary" in refusal("--model", pte, "--stats-only",
                                                                      "--prompt-ids", "1,8192")
    assert "'-5' is not a token id" in refusal("--model", pte, "--stats-only", "--prompt-ids", "1,-5")
    assert "'99999999999999999999' is not a token id" in refusal("--model", pte, "--stats-only", "--prompt-ids",
                                                                "99999999999999999999")
    assert "prompt has 97 tokens but" in refusal("--model", pte, "--stats-only", "--prompt-ids", ",".join(["1"] * 97))
    assert "exceeds the KV cache" in refusal("--model", pte, "--stats-only", "--prompt-ids", "1,2", "-n", "95")
    assert "-t 100000: at most 256 threads" in refusal("--model", pte, "--stats-only", "--prompt-ids", "1",
                                                       "-t", "100000")
    # 10^6 x 10^6 draft slots: refused in 64 bits, not wrapped into a small number (an abort before).
    err = refusal("--model", pte, "--stats-only", "--prompt-ids", "1", "--spec", "tree", "--tree", "1000000/1000000/1")
    assert "1000000000001 draft slots exceeds the KV cache" in err


@pytest.mark.slow
def test_files_that_are_not_small_regular_files_are_not_read(bundle, tmp_path):
    pte = bundle / "model.pte"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert f"{fifo}: vocab.bin is not a regular file" in refusal("--model", pte, "--prompt-ids", "1", "--vocab", fifo)
    assert f"{tmp_path}: the prompt ids file is not a regular file" in refusal(
        "--model", pte, "--stats-only", "--prompt-ids-file", tmp_path)
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.truncate(65 << 20)  # sparse: no disk used
    assert f"{big}: 68157440 bytes is too large for vocab.bin" in refusal("--model", pte, "--prompt-ids", "1",
                                                                           "--vocab", big)
