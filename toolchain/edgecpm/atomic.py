"""Write outputs all-or-nothing: build in a temp sibling, then rename into place.

A crash or Ctrl-C leaves at most a ``.tmp-*`` sibling (removed on the way out), never a
half-written file or directory under the name the user asked for.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from edgecpm.errors import OutputPathError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Written into every directory atomic_dir produces: what makes a directory ours to replace.
OUTPUT_MARKER = ".edgecpm-output"
# Outputs written before the marker existed are recognised by the file only edgecpm writes in
# them: a bundle's manifest, a quantized checkpoint's config, a draft head's description.
_OWN_FILES = (OUTPUT_MARKER, "manifest.json", "quant_config.json", "draft.json")


def _existing_to_replace(target: Path, overwrite: bool) -> bool:
    """What both output checks start with: no links, a parent that takes files, and an existing
    target only with --force. False: nothing is there to replace."""
    if target.is_symlink():
        raise OutputPathError(f"{target} is a symbolic link; pass the real path or another -o")
    check_writable_parent(target)
    if not target.exists():
        return False
    if not overwrite:
        raise FileExistsError(f"{target} already exists; remove it or pass --force")
    return True


def check_output_dir(target: str | Path, overwrite: bool = False) -> None:
    """Refuse, before any work, an output directory that may not be written or replaced.

    ``--force`` replaces only a directory that an edgecpm command wrote (it holds the marker) or
    an empty one: never a file or a symlink, never the current directory, one of its parents or
    the home directory, never a directory with someone else's files in it."""
    target = Path(target)
    if not _existing_to_replace(target, overwrite):
        return
    if not target.is_dir():
        raise OutputPathError(f"{target} is a file, not an output directory; remove it or choose another -o")
    resolved, cwd = target.resolve(), Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents or resolved == Path.home().resolve():
        raise OutputPathError(f"refusing to replace {target}: it is the current directory, one of its parents "
                              "or the home directory; choose a new -o")
    if any(resolved.iterdir()) and not any((resolved / name).is_file() for name in _OWN_FILES):
        raise OutputPathError(f"refusing to replace {target}: it holds files edgecpm did not write; "
                              "remove it yourself or choose another -o")


@contextlib.contextmanager
def atomic_dir(target: str | Path, overwrite: bool = False):
    """Yield a temp directory; on success it replaces ``target`` (checked by check_output_dir)."""
    target = Path(target)
    check_output_dir(target, overwrite)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    except OSError as e:
        raise OutputPathError(f"cannot write {target}: {e.strerror or e}") from None
    try:
        yield tmp
        # mkdtemp makes 0700 and some writers 0600; the result should look like anything else
        # the user creates.
        os.chmod(tmp, 0o777 & ~_umask())
        for f in tmp.iterdir():
            if f.is_file():
                os.chmod(f, 0o666 & ~_umask())
        (tmp / OUTPUT_MARKER).touch()
        if target.exists():
            check_output_dir(target, overwrite)  # again: it may have changed while we worked
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(target: str | Path, mode: str = "wb"):
    """Yield a temp file object; on success it replaces ``target``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{target.name}-", dir=target.parent)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def check_writable_parent(target: str | Path) -> None:
    """Refuse, before any work, an output whose folder cannot be created or written: the error
    names the user's path, not the hidden temp sibling the write would have failed on."""
    target = Path(target)
    folder = target.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputPathError(f"cannot write {target}: {folder} is a file, not a directory")
    # Creating a file is the only test that holds everywhere (root passes permission checks, a
    # read-only mount or /proc refuses what access() allows); it is removed at once.
    try:
        fd, probe = tempfile.mkstemp(prefix=".tmp-probe-", dir=folder)
    except OSError as e:
        raise OutputPathError(f"cannot write {target}: cannot create files in {folder} "
                              f"({e.strerror or e})") from None
    os.close(fd)
    os.unlink(probe)


def check_output_file(target: str | Path, overwrite: bool = False, example: str = "out") -> None:
    """Refuse, before any work, an output file that may not be written or replaced.

    ``target`` as the user typed it: a trailing ``/`` means a directory even when none exists yet
    (``Path`` drops it). ``--force`` replaces only a regular file, never a directory or a link."""
    raw = str(target)
    target = Path(target)
    if raw.endswith(("/", os.sep)) or (target.is_dir() and not target.is_symlink()):
        raise OutputPathError(f"{raw} is a directory; -o takes a file path here, e.g. {target / example}")
    if not _existing_to_replace(target, overwrite):
        return
    if not target.is_file():
        raise OutputPathError(f"{target} is not a regular file; remove it yourself or choose another -o")


@contextlib.contextmanager
def atomic_path(target: str | Path, overwrite: bool = False, example: str = "out"):
    """Yield a temp sibling path for a writer that opens files itself; on success it replaces
    ``target`` (checked by check_output_file before and again after the work)."""
    check_output_file(target, overwrite, example)
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".tmp-{target.name}-", dir=target.parent)
        os.close(fd)
    except OSError as e:
        raise OutputPathError(f"cannot write {target}: {e.strerror or e}") from None
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600
        check_output_file(target, overwrite, example)  # again: it may have changed while we worked
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
