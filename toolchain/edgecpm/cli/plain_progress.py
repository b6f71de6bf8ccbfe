"""Progress for a log, not a terminal: a plain line every so often instead of a redrawn bar.

tqdm draws nothing when stderr is not a terminal, so `edgecpm eval … 2> log` or a CI job sat
silent for eleven minutes. Here a line goes out once a phase has run ``interval`` seconds, and then
every ``interval`` seconds, plus a closing line; a phase shorter than that prints nothing.
"""

from __future__ import annotations

import os
import sys
import time

DEFAULT_INTERVAL_S = 10.0


class PlainProgress:
    """The slice of tqdm's interface the commands use: a context manager with ``update(n)``."""

    def __init__(self, total: int, desc: str, unit: str = "it", interval: float | None = None, file=None):
        if interval is None:
            interval = float(os.environ.get("EDGECPM_PROGRESS_INTERVAL", DEFAULT_INTERVAL_S))
        self.total, self.desc, self.unit, self.interval = total, desc, unit, interval
        self.file = file or sys.stderr
        self.n = 0
        self.start = self.last = time.monotonic()
        self.printed = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.printed and exc[0] is None:
            self._line("done")
        return False

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            self._line()

    def _line(self, tail: str = "") -> None:
        elapsed = time.monotonic() - self.start
        pct = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        print(f"{self.desc}: {self.n}/{self.total} {self.unit}{pct}, {elapsed:.0f} s{', ' + tail if tail else ''}",
              file=self.file, flush=True)
        self.printed = True
