"""Taking a bundle to the machine that runs it, running a command there, bringing files back.

A ``Transport`` has three operations. ``push`` copies a file over and says where it landed (only
when its checksum differs from what is there), ``run`` runs an argument list there, streaming its
stdout, with a timeout, and stops it there when the caller gives up, ``pull`` copies a result back.
Callers use the paths ``push`` returns, never local ones, so they need not know which machine it
is. ``LocalTransport`` is this machine; ``ssh_transport.SshTransport`` (``ssh://user@host``) and
``adb_transport.AdbTransport`` (``adb://SERIAL``) reach devices; ``devices.open_device`` picks
one from a ``--device`` value.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Protocol

from edgecpm.errors import DeviceError
from edgecpm.runtime.client_process import ClientProcess


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


class Transport(Protocol):
    name: str   # how records and messages name the device ("host", "ssh://jetson", "adb://R58N...")

    def push(self, local: Path, dest: str | None = None) -> str:
        """Make the file ``local`` available on the device (at ``dest``, a path there, when given);
        its path there."""

    def run(self, argv: list[str], timeout: float | None = None, on_stdout: Callable[[bytes], None] | None = None,
            env: Mapping[str, str] | None = None) -> Completed:
        """Run ``argv`` on the device (paths in it from ``push``) and wait at most ``timeout``
        seconds; ``on_stdout`` gets its output as it comes. A timeout or Ctrl-C stops it there."""

    def pull(self, remote: str, local: Path) -> Path:
        """Copy ``remote`` (a path on the device) to ``local`` here; ``local``."""


class LocalTransport:
    """This machine: files are where they are, commands are subprocesses."""

    name = "host"

    def push(self, local: Path, dest: str | None = None) -> str:
        if dest is not None and Path(dest).resolve() != Path(local).resolve():
            shutil.copyfile(local, dest)
            return str(Path(dest).resolve())
        return str(Path(local).resolve())

    def run(self, argv: list[str], timeout: float | None = None, on_stdout: Callable[[bytes], None] | None = None,
            env: Mapping[str, str] | None = None) -> Completed:
        proc = ClientProcess([str(a) for a in argv], on_stdout, env)
        try:
            status = proc.wait_or_kill(timeout)   # Ctrl-C: the child goes too
        except subprocess.TimeoutExpired:
            raise DeviceError(f"host: {Path(str(argv[0])).name} timed out after {timeout:g} s and was stopped; "
                              "pass a longer --timeout or a smaller job") from None
        return Completed(status, proc.stdout, proc.stderr)

    def pull(self, remote: str, local: Path) -> Path:
        source, local = Path(remote), Path(local)
        if source.resolve() != local.resolve():
            if source.is_dir():
                shutil.copytree(source, local, dirs_exist_ok=True)
            else:
                shutil.copyfile(source, local)
        return local
