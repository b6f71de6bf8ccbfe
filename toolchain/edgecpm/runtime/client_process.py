"""A local process whose output is read as it comes: the program itself (``LocalTransport``) or
the client that reaches a device (``ssh``, ``adb``).

stdout goes to a callback chunk by chunk (``generate --device`` streams the runner's text) and is
kept; stderr is kept too, read on a thread of its own so that neither pipe can fill up and stall
the other. A remote command started through ``remote_shell.background_script`` announces its
process id on stderr first (``PID_MARKER``): that line is taken out of stderr and kept as
``remote_pid``, so the command can be stopped on the device after a timeout, a Ctrl-C or a
dropped connection (killing the local client alone would leave it running there).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from typing import Callable, Mapping

PID_MARKER = "edgecpm-remote-pid "


class ClientProcess:
    def __init__(self, argv: list[str], on_stdout: Callable[[bytes], None] | None = None,
                 env: Mapping[str, str] | None = None):
        self.remote_pid: int | None = None
        self._pid_seen = threading.Event()
        self._stdout, self._stderr = bytearray(), bytearray()
        self._on_stdout = on_stdout
        self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      env=None if env is None else {**os.environ, **env})
        self._readers = [threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]
        for t in self._readers:
            t.start()

    @property
    def pid(self) -> int:
        return self._proc.pid

    def _read_stdout(self) -> None:
        # read1 returns what the pipe holds now (up to 64 KiB), so tokens stream as written.
        for chunk in iter(lambda: self._proc.stdout.read1(1 << 16), b""):
            self._stdout += chunk
            if self._on_stdout is not None:
                self._on_stdout(chunk)

    def _read_stderr(self) -> None:
        for line in iter(self._proc.stderr.readline, b""):
            text = line.decode(errors="replace")
            if self.remote_pid is None and text.startswith(PID_MARKER):
                self.remote_pid = int(text[len(PID_MARKER):].strip())
                self._pid_seen.set()
            else:
                self._stderr += line

    def wait(self, timeout: float | None = None) -> int:
        """The exit status; ``subprocess.TimeoutExpired`` when ``timeout`` seconds pass first."""
        status = self._proc.wait(timeout)
        self._finish_reading(None)
        return status

    def wait_or_kill(self, timeout: float | None = None) -> int:
        """``wait``, but a timeout (``subprocess.TimeoutExpired``) or an interrupt ends the process
        first, then propagates."""
        try:
            return self.wait(timeout)
        except BaseException:
            self.kill()
            raise

    def await_remote_pid(self, seconds: float) -> int | None:
        """The remote command's id, waiting up to ``seconds`` for it while the client still runs
        (a command interrupted just after it started may not have reported it yet)."""
        deadline = time.monotonic() + seconds
        while not self._pid_seen.is_set() and self._proc.poll() is None and time.monotonic() < deadline:
            self._pid_seen.wait(0.05)
        return self.remote_pid

    def kill(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._finish_reading(5)

    def _finish_reading(self, timeout: float | None) -> None:
        for t in self._readers:
            t.join(timeout)
        for pipe in (self._proc.stdout, self._proc.stderr):
            pipe.close()

    @property
    def stdout(self) -> str:
        return self._stdout.decode(errors="replace")

    @property
    def stderr(self) -> str:
        return self._stderr.decode(errors="replace")
