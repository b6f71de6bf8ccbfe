"""A client of `edgecpm-runner BUNDLE --serve` (runtime_kernels/runner/chat_session.h) for the
tests: the process, its ready line, and one turn's token lines up to its done or error line."""

from __future__ import annotations

import json
import subprocess


class ServeClient:
    def __init__(self, argv: list[str], env=None):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env, text=True, encoding="utf-8")
        self.ready = self._event()
        assert self.ready["event"] == "ready", self.ready

    def _event(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=60)
            raise AssertionError(f"the runner exited ({self.proc.returncode}): {self.proc.stderr.read()}")
        return json.loads(line)

    def send(self, *lines: str) -> None:
        """Writes the lines in one write, so that the runner reads them together."""
        self.proc.stdin.write("".join(line + "\n" for line in lines))
        self.proc.stdin.flush()

    def turn(self, *lines: str) -> tuple[list[dict], dict]:
        """Sends the lines; returns (token events, the done or error event)."""
        self.send(*lines)
        tokens = []
        while (event := self._event())["event"] == "token":
            tokens.append(event)
        return tokens, event

    def close(self) -> int:
        self.proc.stdin.close()
        status = self.proc.wait(timeout=120)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return status
