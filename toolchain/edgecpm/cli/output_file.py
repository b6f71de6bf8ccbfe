"""A file named by ``-o`` (a bench report, an FR-Spec list): checked before the work that
produces it, replaced only with ``--force``, then written all-or-nothing, so an interrupted run
never leaves half a file under that name."""

from __future__ import annotations

import os
from pathlib import Path

from edgecpm.errors import OutputPathError


def check_output_file(path: Path, force: bool) -> None:
    if path.is_symlink():
        raise OutputPathError(f"-o {path}: a symbolic link; pass the real path")
    if path.is_dir():
        raise OutputPathError(f"-o {path}: a directory; name a file to write the report to")
    if path.exists() and not force:
        raise OutputPathError(f"-o {path}: already exists; remove it or pass --force")
    parent = path.parent
    if not parent.is_dir():
        raise OutputPathError(f"-o {path}: the directory {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputPathError(f"-o {path}: the directory {parent} is not writable")


def write_text(path: Path, text: str) -> None:
    from edgecpm.atomic import atomic_file

    try:
        with atomic_file(path, "w") as f:
            f.write(text if text.endswith("\n") else text + "\n")
    except OSError as e:  # the checks above passed, yet the system refused (a full disk, /proc)
        raise OutputPathError(f"-o {path}: cannot write it ({e.strerror or e})") from None
