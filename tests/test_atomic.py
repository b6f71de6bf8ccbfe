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


def test_a_file_output_refuses_directories_links_and_existing_files(tmp_path):
    from edgecpm.atomic import check_output_file

    (tmp_path / "dir").mkdir()
    (tmp_path / "kept.bin").write_text("mine")
    os.symlink(tmp_path / "kept.bin", tmp_path / "link.bin")
    with pytest.raises(OutputPathError, match=r"dir is a directory; -o takes a file path here, e\.g\. .*dir/m\.gguf"):
        check_output_file(tmp_path / "dir", overwrite=True, example="m.gguf")
    with pytest.raises(OutputPathError, match="new/ is a directory"):  # the "/" says so, though none exists
        check_output_file(f"{tmp_path}/new/")
    with pytest.raises(OutputPathError, match="is a symbolic link"):
        check_output_file(tmp_path / "link.bin", overwrite=True)
    with pytest.raises(FileExistsError, match="kept.bin already exists; remove it or pass --force"):
        check_output_file(tmp_path / "kept.bin")
    check_output_file(tmp_path / "kept.bin", overwrite=True)
    assert (tmp_path / "kept.bin").read_text() == "mine"


def test_an_output_under_a_file_is_refused_naming_the_users_path(tmp_path):
    from edgecpm.atomic import check_output_file

    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(OutputPathError, match=r"cannot write .*notes.txt/sub/m.gguf: .*notes.txt is a file"):
        check_output_file(tmp_path / "notes.txt" / "sub" / "m.gguf")
    with pytest.raises(OutputPathError, match=r"cannot write .*notes.txt/bundle: .*notes.txt is a file"):
        check_output_dir(tmp_path / "notes.txt" / "bundle")


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc, where no file can be created")
def test_an_unwritable_output_is_one_line_naming_the_users_path(tmp_path):
    from edgecpm.atomic import atomic_path

    # Root passes permission checks, so the failure shows only when the temp sibling is created:
    # it must still name the user's path, not the hidden temp name.
    for writer in (lambda p: atomic_path(p), lambda p: atomic_dir(p)):
        with pytest.raises(OutputPathError, match=r"^cannot write /proc/edgecpm-out: ") as e:
            with writer("/proc/edgecpm-out"):
                pass
        assert ".tmp-" not in str(e.value)


def test_atomic_path_replaces_only_on_success(tmp_path):
    from edgecpm.atomic import atomic_path

    target = tmp_path / "m.bin"
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"one")
    with pytest.raises(RuntimeError):
        with atomic_path(target, overwrite=True) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("interrupted")
    assert target.read_bytes() == b"one"
    assert [p.name for p in tmp_path.iterdir()] == ["m.bin"]
