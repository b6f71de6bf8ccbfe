"""``LocalTransport``: the runner's rows in ``bench`` go through it, so a device transport can
replace it; a failed run is one error naming the runner and the bundle; output streams, and a
timeout stops the program. (The device transports: tests/device/.)"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from edgecpm.bench import runner_stats
from edgecpm.errors import DeviceError, EdgecpmError
from edgecpm.runtime.transport import Completed, LocalTransport


def test_push_is_the_local_path(tmp_path):
    (tmp_path / "f").write_text("x")
    assert LocalTransport().push(tmp_path / "." / "f") == str((tmp_path / "f").resolve())


def test_run_returns_status_and_output():
    done = LocalTransport().run([sys.executable, "-c", "import sys; print('out'); sys.exit(3)"])
    assert done == Completed(3, "out\n", "")


def test_run_streams_stdout_and_passes_the_environment():
    chunks = []
    code = "import os, sys, time; print('a', flush=True); time.sleep(0.2); print(os.environ['EDGECPM_X'])"
    done = LocalTransport().run([sys.executable, "-c", code], on_stdout=chunks.append, env={"EDGECPM_X": "b c"})
    assert done.stdout == "a\nb c\n" and b"".join(chunks) == b"a\nb c\n" and len(chunks) >= 2   # as written


def test_a_run_past_its_timeout_is_stopped(tmp_path):
    marker = tmp_path / "finished"
    code = f"import time, pathlib; time.sleep(30); pathlib.Path({str(marker)!r}).touch()"
    with pytest.raises(DeviceError, match=r"^host: python\S* timed out after 0.5 s and was stopped"):
        LocalTransport().run([sys.executable, "-c", code], timeout=0.5)
    assert not marker.exists()


def test_pull_copies_a_file_and_a_directory(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.json").write_text("{}")
    t = LocalTransport()
    assert t.pull(str(tmp_path / "src" / "a.json"), tmp_path / "b.json").read_text() == "{}"
    assert (t.pull(str(tmp_path / "src"), tmp_path / "copy") / "a.json").is_file()
    assert t.pull(str(tmp_path / "b.json"), tmp_path / "b.json").read_text() == "{}"   # same file: kept


class Recording:
    """A transport that records what it was asked and answers as told."""

    name = "fake"

    def __init__(self, answer: Completed):
        self.answer, self.pushed, self.argv = answer, [], None

    def push(self, local: Path) -> str:
        self.pushed.append(Path(local).name)
        return f"/device/{Path(local).name}"

    def run(self, argv):
        self.argv = argv
        return self.answer

    def pull(self, remote, local):
        raise AssertionError("not used")


def test_runner_stats_runs_through_the_transport(tmp_path):
    fake = Recording(Completed(0, 'log line\n{"decode_tok_s": 5.0}\n', ""))
    stats = runner_stats(tmp_path / "edgecpm-runner", tmp_path, [1, 2], 4, threads=2, transport=fake)
    assert stats == {"decode_tok_s": 5.0}
    assert fake.pushed == ["edgecpm-runner", "model.pte", "vocab.bin"]
    assert fake.argv[:3] == ["/device/edgecpm-runner", "--model", "/device/model.pte"]
    assert fake.argv[fake.argv.index("-t") + 1] == "2"


def test_a_failed_runner_is_one_error(tmp_path):
    fake = Recording(Completed(1, "", "boom: bad program\n"))
    with pytest.raises(EdgecpmError, match=r"edgecpm-runner failed on .* \(exit 1\): boom: bad program"):
        runner_stats(tmp_path / "edgecpm-runner", tmp_path, [1], 1, transport=fake)
