"""Corrupted bundle files stop the runner with a message and a non-zero exit, never a signal.

A fixed-seed set of byte mutations of a real program's first 64 KiB (the flatbuffer: offsets,
sizes, plans) — with ExecuTorch's Minimal verification 17 of these 60 crashed the runner (SIGSEGV) —
and a vocab.bin whose id count is larger than the file.
"""

from __future__ import annotations

import random
import struct
import subprocess

import pytest

from tests.runner.test_runner import HOST_RUNNER, require


def run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(require(HOST_RUNNER, "kernels")), *args], capture_output=True, timeout=120)


@pytest.mark.slow
def test_mutated_programs_fail_cleanly(tiny_bundles, tmp_path):
    _, bundle = tiny_bundles["int4"]
    data = (bundle / "model.pte").read_bytes()
    rng = random.Random(0)
    bad = tmp_path / "model.pte"
    outcomes = []
    for _ in range(60):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            mutated[rng.randrange(min(len(data), 65536))] = rng.randrange(256)
        bad.write_bytes(bytes(mutated))
        res = run(["--model", str(bad), "--prompt-ids", "1,2", "-n", "2", "--stats-only"])
        assert res.returncode >= 0, f"signal {-res.returncode}: {res.stderr[-300:]!r}"
        outcomes.append(res.returncode)
    assert sum(rc != 0 for rc in outcomes) > 30  # most mutations are refused, not silently run


def test_vocab_bin_with_an_impossible_count_is_refused(tiny_bundles, tmp_path):
    _, bundle = tiny_bundles["float"]
    data = bytearray((bundle / "vocab.bin").read_bytes())
    data[8:12] = struct.pack("<I", 0xFFFFFFF0)
    (tmp_path / "vocab.bin").write_bytes(bytes(data))
    res = run(["--model", str(bundle / "model.pte"), "--vocab", str(tmp_path / "vocab.bin"), "--prompt-ids", "1"])
    assert res.returncode > 0
    assert b"not a valid vocab.bin (its header counts 4294967280 ids" in res.stderr
