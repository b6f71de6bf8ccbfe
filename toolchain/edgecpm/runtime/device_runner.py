"""One run of the native runner on a deployed device: its streamed text, its JSON stats line, and
on a Jetson the power tegrastats saw during the run.

The runner prints the generated text as it decodes, then (after a newline it adds when the text
lacks one) one JSON line. ``RunnerOutput`` passes the text on as it arrives and holds back only
what may still turn out to be that last line.
"""

from __future__ import annotations

import codecs
import json
import signal
from dataclasses import dataclass
from typing import Callable

from edgecpm.errors import DeviceError
from edgecpm.runtime.deploy import Deployment
from edgecpm.runtime.power import INTERVAL_MS, READ_LOG, SAMPLED, PowerReading, parse_tegrastats
from edgecpm.runtime.remote_shell import join_path
from edgecpm.runtime.remote_transport import DEFAULT_TIMEOUT

_SIGNAL_HINTS = {"SIGKILL": " (the kernel's out-of-memory killer sends it: check free memory there)",
                 "SIGILL": " (the CPU lacks an instruction the kernels use)",
                 "SIGSEGV": " (a crash: report it with the bundle and the device)"}


@dataclass(frozen=True)
class RunnerRun:
    stats: dict                     # the runner's JSON line
    text: str                       # what it printed before it
    power: PowerReading | None      # tegrastats over the run, when sampled


class RunnerOutput:
    """Splits the runner's stdout into text (passed to ``on_text`` as it comes) and the JSON line."""

    def __init__(self, on_text: Callable[[str], None] | None = None):
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._on_text = on_text or (lambda _t: None)
        self._pending = ""       # not yet passed on: from a newline that may precede the JSON line
        self._started = False    # has any text been passed on
        self.text = ""

    def feed(self, chunk: bytes) -> None:
        self._emit_safe(self._pending + self._decoder.decode(chunk))

    def _emit_safe(self, s: str) -> None:
        # Trailing newlines are held: the runner's own newline before the JSON line is not text.
        body = s.rstrip("\n")
        cut = body.rfind("\n")
        if (cut >= 0 or not self._started) and body[cut + 1:].startswith("{"):
            # The last line may be (the start of) the JSON line: keep it and the newline before it.
            keep = max(cut, 0)
            self._pass(body[:keep])
            self._pending = s[keep:]
        else:
            self._pass(body)
            self._pending = s[len(body):]

    def _pass(self, text: str) -> None:
        if text:
            self._started = True
            self.text += text
            self._on_text(text)

    def finish(self) -> dict:
        """The JSON line; the text before it is passed on, less the newline the runner adds."""
        rest = (self._pending + self._decoder.decode(b"", final=True)).rstrip("\n")
        cut = rest.rfind("\n")
        try:
            stats = json.loads(rest[cut + 1:])
        except json.JSONDecodeError:
            raise DeviceError(f"the runner's output does not end with its JSON stats line: {rest[-200:]!r}") from None
        self._pass(rest[:max(cut, 0)])
        return stats


def runner_failure(device: str, status: int, stderr: str) -> DeviceError:
    said = (stderr.strip().splitlines() or ["no message"])[-1]
    if 128 < status < 128 + 65:
        try:
            name = signal.Signals(status - 128).name
        except ValueError:
            name = f"signal {status - 128}"
        return DeviceError(f"{device}: edgecpm-runner was killed by {name}{_SIGNAL_HINTS.get(name, '')}")
    return DeviceError(f"{device}: edgecpm-runner failed (exit {status}): {said}")


def run_runner(d: Deployment, args: list[str], on_text: Callable[[str], None] | None = None,
               sample_power: bool = False, timeout: float = DEFAULT_TIMEOUT) -> RunnerRun:
    """Run the deployed runner with ``args`` (after ``--model``/``--vocab``), streaming its text."""
    argv = [*d.launch, "--model", d.model, "--vocab", d.vocab, *args]
    log = join_path(d.transport.root, "tegrastats.log")
    if sample_power:
        argv = ["sh", "-c", SAMPLED, "sh", log, str(INTERVAL_MS), *argv]
    out = RunnerOutput(on_text)
    done = d.transport.run(argv, timeout=timeout, on_stdout=out.feed, env=d.env)
    power = None
    if sample_power:
        power = parse_tegrastats(d.transport.shell(READ_LOG, [log], timeout=60).stdout)
    if done.returncode != 0:
        raise runner_failure(d.transport.name, done.returncode, done.stderr)
    return RunnerRun(out.finish(), out.text, power)
