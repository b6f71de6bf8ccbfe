"""Taking a bundle to the machine that runs it, running a command there, bringing files back.

``bench`` runs the native runner through a ``Transport``; today only ``LocalTransport`` (this
machine: nothing to copy, a subprocess) exists. A device transport (``ssh://``, ``adb://``) is a
class with the same three methods: ``push`` copies a file or directory over and says where it
landed, ``run`` runs a command there and returns its status and output, ``pull`` copies a result
back. Callers use the paths ``push`` returns, never local ones, so they need not know which.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


class Transport(Protocol):
    name: str   # how rows and messages name the device ("host", later "ssh://jetson" ...)

    def push(self, local: Path) -> str:
        """Make ``local`` (a file or directory) available on the device; its path there."""

    def run(self, argv: list[str]) -> Completed:
        """Run ``argv`` on the device (paths in it from ``push``) and wait for it."""

    def pull(self, remote: str, local: Path) -> Path:
        """Copy ``remote`` (a path on the device) to ``local`` here; ``local``."""


class LocalTransport:
    """This machine: files are where they are, commands are subprocesses."""

    name = "host"

    def push(self, local: Path) -> str:
        return str(Path(local).resolve())

    def run(self, argv: list[str]) -> Completed:
        out = subprocess.run([str(a) for a in argv], capture_output=True, text=True)
        return Completed(out.returncode, out.stdout, out.stderr)

    def pull(self, remote: str, local: Path) -> Path:
        source, local = Path(remote), Path(local)
        if source.resolve() != local.resolve():
            if source.is_dir():
                shutil.copytree(source, local, dirs_exist_ok=True)
            else:
                shutil.copyfile(source, local)
        return local
