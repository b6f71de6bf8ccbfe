"""One conversation with the native runner's serving mode (``edgecpm-runner BUNDLE --serve``,
runtime_kernels/runner/chat_session.h), used to time decode at a depth.

The serving runner keeps its KV cache between turns, so a long context is prefilled once (one
turn of filler text, untimed by us) and then any number of short turns decode at that depth,
each reporting the runner's own decode rate. Prefilling 16K positions of a 0.5B model takes
minutes on a small CPU; one process per program pays it once instead of once per timed run.

The filler is a fixed paragraph repeated: the runner's own tokenizer (``--tokenize``) gives its
length in tokens, so the context reaches a depth to within one paragraph; the runner's done line
gives the exact position, which is what gets reported.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from edgecpm.errors import EdgecpmError

PARAGRAPH = ("Edge devices read every weight and every cached key once per generated token, so the "
             "speed of decoding is set by how many bytes each step has to touch.\n")
TURN_PROMPT = "\n"   # each timed turn's own new text: a token or two, then the decode


class ServeSession:
    """``runner BUNDLE --serve``, started on construction; ``close`` ends it."""

    def __init__(self, runner: Path, bundle: Path, n_gen: int):
        self.runner, self.bundle, self.n_gen = runner, bundle, n_gen
        self.paragraph_tokens = self._paragraph_tokens()
        self.stderr = tempfile.TemporaryFile(mode="w+")   # a file, not a pipe: nothing waits on it filling
        self.proc = subprocess.Popen([str(runner), str(bundle), "--serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr, text=True, encoding="utf-8")
        ready = self._event()
        if ready.get("event") != "ready":
            self._fail(f"answered {ready} instead of its ready line")
        self.max_seq_len = int(ready["max_seq_len"])
        self.position = 0

    def _paragraph_tokens(self) -> int:
        """The paragraph's length in the runner's tokens; refused unless repeating it adds up
        (no merge across the repeats), so that a context of k paragraphs has k times as many."""
        with tempfile.TemporaryDirectory() as tmp:   # --tokenize reads a regular file
            lines = Path(tmp) / "filler.jsonl"
            lines.write_text(json.dumps(PARAGRAPH) + "\n" + json.dumps(PARAGRAPH * 8) + "\n")
            done = subprocess.run([str(self.runner), str(self.bundle), "--tokenize", str(lines)],
                                  capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise EdgecpmError(f"{self.runner} --tokenize failed on {self.bundle} (exit {done.returncode}): "
                               f"{done.stderr.strip()[-300:]}")
        one, eight = (len(json.loads(line)) for line in done.stdout.strip().splitlines()[-2:])
        if one == 0 or eight != 8 * one:
            raise EdgecpmError(f"{self.bundle}: the filler paragraph is {one} tokens once but {eight} eight times; "
                               "the depth runs need a filler whose repeats add up")
        return one

    def fill_to(self, depth: int) -> int:
        """Prefills filler up to ``depth`` positions (at most one paragraph short); the position reached."""
        # The turn also holds a BOS (the first turn) and its one generated token.
        repeats = (depth - self.position - 2) // self.paragraph_tokens
        if repeats > 0:
            self._turn(PARAGRAPH * repeats, 1)
        return self.position

    def decode(self) -> dict:
        """One timed turn: a short prompt, then ``n_gen`` greedy tokens; the runner's stats for it."""
        return self._turn(TURN_PROMPT, self.n_gen)

    def _turn(self, prompt: str, max_new_tokens: int) -> dict:
        self.proc.stdin.write(json.dumps({"prompt": prompt, "max_new_tokens": max_new_tokens}) + "\n")
        self.proc.stdin.flush()
        while (event := self._event()).get("event") == "token":
            pass
        if event.get("event") != "done":
            self._fail(f"refused a turn at position {self.position}: {event.get('message', event)}")
        self.position = int(event["position"])
        return event

    def _event(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self._fail("ended early")
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            self._fail(f"printed a line that is not JSON: {line.strip()[:200]!r}")

    def _fail(self, what: str):
        self._end()
        self.stderr.seek(0)
        tail = self.stderr.read().strip()[-300:]
        self.close()
        raise EdgecpmError(f"{self.runner} --serve on {self.bundle} {what} (exit {self.proc.returncode}): {tail}")

    def _end(self) -> None:
        """Ends the process: its stdin closed (it exits at the end of input), killed after a minute."""
        if not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def close(self) -> None:
        self._end()
        self.proc.stdout.close()
        self.stderr.close()
