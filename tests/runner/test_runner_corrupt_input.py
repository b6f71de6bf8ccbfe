"""A vocab.bin whose id count is larger than the file stops the runner with a message, not
std::bad_alloc. (Mutated programs, manifests and vocabularies: tests/fuzz/test_runner_fuzz.py.)
"""

from __future__ import annotations

import struct
import subprocess

from tests.runner.test_runner import HOST_RUNNER, require


def run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(require(HOST_RUNNER, "kernels")), *args], capture_output=True, timeout=120)


def test_vocab_bin_with_an_impossible_count_is_refused(tiny_bundles, tmp_path):
    _, bundle = tiny_bundles["int4"]
    data = bytearray((bundle / "vocab.bin").read_bytes())
    data[8:12] = struct.pack("<I", 0xFFFFFFF0)
    (tmp_path / "vocab.bin").write_bytes(bytes(data))
    res = run(["--model", str(bundle / "model.pte"), "--vocab", str(tmp_path / "vocab.bin"), "--prompt-ids", "1"])
    assert res.returncode > 0
    assert b"not a valid vocab.bin (its header counts 4294967280 ids" in res.stderr
