"""Where outputs may go: ``--force`` replaces only what edgecpm wrote (or an empty directory), never
the current directory, a file, a link or someone else's files — and says so before any work."""

from __future__ import annotations

import os

import pytest

from edgecpm.atomic import OUTPUT_MARKER, atomic_dir, check_output_dir
from edgecpm.errors import OutputPathError
from tests.cli.test_cli import invoke


def write(target, overwrite=True, name="out.txt"):
    with atomic_dir(target, overwrite=overwrite) as tmp:
        (tmp / name).write_text("new")


def test_force_replaces_our_own_output_and_empty_directories(tmp_path):
    write(tmp_path / "a", overwrite=False)
    assert (tmp_path / "a" / OUTPUT_MARKER).is_file()
    write(tmp_path / "a", name="second.txt")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [OUTPUT_MARKER, "second.txt"]
    (tmp_path / "empty").mkdir()
    write(tmp_path / "empty")
    assert (tmp_path / "empty" / "out.txt").read_text() == "new"


@pytest.mark.parametrize("case", ["cwd", "parent", "foreign", "file", "symlink"])
def test_force_refuses_what_is_not_ours_and_keeps_it(tmp_path, monkeypatch, case):
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("mine")
    os.symlink(work, tmp_path / "link")
    monkeypatch.chdir(tmp_path if case == "foreign" else work)
    target = {"cwd": work, "parent": tmp_path, "foreign": work, "file": work / "notes.txt",
              "symlink": tmp_path / "link"}[case]
    with pytest.raises(OutputPathError):
        write(target)
    assert (work / "notes.txt").read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []


def test_quantize_into_the_current_directory_refuses_and_deletes_nothing(tmp_path, monkeypatch):
    (tmp_path / "keep.txt").write_text("keep")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    r = invoke("quantize", "tiny", "--scheme", "int4", "-o", ".", "--force")
    assert r.exit_code == 2 and "refusing to replace ." in r.output
    assert (tmp_path / "keep.txt").read_text() == "keep" and (tmp_path / "sub").is_dir()


def test_export_refuses_a_file_as_output_before_lowering(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputPathError, match="is a file"):
        check_output_dir(tmp_path / "f", overwrite=True)
    r = invoke("export", "tiny", "-o", str(tmp_path / "f"), "--force")
    assert r.exit_code == 2 and "is a file, not an output directory" in r.output
    assert (tmp_path / "f").read_text() == "x"
