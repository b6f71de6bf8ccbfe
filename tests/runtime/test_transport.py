"""``LocalTransport``: the runner's rows in ``bench`` go through it, so a device transport can
replace it; and a failed run is one error naming the runner and the bundle."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from edgecpm.bench import runner_stats
from edgecpm.errors import EdgecpmError
from edgecpm.runtime.transport import Completed, LocalTransport


def test_push_is_the_local_path(tmp_path):
    (tmp_path / "f").write_text("x")
    assert LocalTransport().push(tmp_path / "." / "f") == str((tmp_path / "f").resolve())


def test_run_returns_status_and_output():
    done = LocalTransport().run([sys.executable, "-c", "import sys; print('out'); sys.exit(3)"])
    assert done == Completed(3, "out\n", "")


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
