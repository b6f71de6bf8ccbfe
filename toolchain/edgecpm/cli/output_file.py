"""A file named by ``-o`` (a bench report, an FR-Spec list) under the one output rule of
``edgecpm.atomic``: checked before the work that produces it (a file path, its folder creatable and
writable, replaced only with ``--force``), then written all-or-nothing, so an interrupted run never
leaves half a file under that name."""

from __future__ import annotations

from pathlib import Path

from edgecpm.atomic import atomic_file, check_output_file as check_output_path, check_writable_parent
from edgecpm.errors import OutputPathError


def check_output_file(path: Path, force: bool, example: str) -> None:
    """``example``: a file name to suggest when ``path`` is a directory."""
    check_output_path(path, force, example)
    check_writable_parent(path)


def write_text(path: Path, text: str) -> None:
    try:
        with atomic_file(path, "w") as f:
            f.write(text if text.endswith("\n") else text + "\n")
    except OSError as e:  # the checks passed, yet the system refused (a full disk, /proc)
        raise OutputPathError(f"-o {path}: cannot write it ({e.strerror or e})") from None
