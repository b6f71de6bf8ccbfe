"""edgecpm-runner --serve over damaged stdin lines: each line is answered (a turn's token lines and
done line, or one error line) and the process lives on; at the end of input it exits 0; never a
signal, a hang or a sanitizer report.

Fixed-seed mutations (tests/fuzz/mutations.py) of one valid prompt line, each followed by a
sentinel line whose refusal marks the end of the answers to the mutated line, and a reset. About
300 lines through one process on the tiny int4 bundle. `make kernels-sanitize` runs this file with
the AddressSanitizer/UBSan build (``EDGECPM_RUNNER``), as the bundle fuzz test.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.fuzz.mutations import mutations
from tests.fuzz.test_runner_fuzz import RUNNER, SANITIZER_MARKS
from tests.runner.test_runner import require

VALID = json.dumps({"prompt": "Raise ValueError if the 3 cats <|im_start|>user\n你好 😀", "max_new_tokens": 2,
                    "temperature": 0.7, "top_p": 0.9, "top_k": 5, "seed": 3}, ensure_ascii=False).encode()
# A member name no mutation of VALID can produce, so its refusal is told from every other.
SENTINEL = b'{"prompt": "x", "end_of_case_7f3a": 1}'
SENTINEL_ERROR = 'unknown member "end_of_case_7f3a" (prompt, max_new_tokens, temperature, top_p, top_k, seed)'


@pytest.mark.slow
def test_serve_answers_every_damaged_line(tiny_bundles, tmp_path):
    runner = require(RUNNER, "kernels")
    bundle = tiny_bundles["int4"][1]
    proc = subprocess.Popen([str(runner), str(bundle), "--serve", "--chat", "--no-verify"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert json.loads(proc.stdout.readline())["event"] == "ready"
    failures, turns, refused, total = [], 0, 0, 0
    for label, data in mutations(VALID, seed=31, count=300):
        total += 1
        proc.stdin.write(data.replace(b"\n", b" ") + b"\n" + SENTINEL + b"\n")
        proc.stdin.flush()
        events = []
        while True:
            line = proc.stdout.readline()
            if not line:
                failures.append(f"{label}: the runner exited: {proc.stderr.read().decode(errors='replace')[-800:]}")
                break
            try:
                event = json.loads(line)
            except ValueError:
                failures.append(f"{label}: a line that is not JSON: {line[:200]!r}")
                break
            if event.get("event") == "error" and event.get("message") == SENTINEL_ERROR:
                break
            events.append(event)
        if failures and "exited" in failures[-1]:
            break
        kinds = [e.get("event") for e in events]
        if kinds == ["error"]:
            refused += 1
        elif kinds[-1:] == ["done"] and set(kinds[:-1]) <= {"token"} and len(kinds) - 1 == len(events[-1]["tokens"]):
            turns += 1
        else:
            failures.append(f"{label}: answered with {kinds}")
        proc.stdin.write(b'{"command": "reset"}\n')
    proc.stdin.close()
    status = proc.wait(timeout=120)
    err = proc.stderr.read().decode(errors="replace")
    assert not failures, f"{len(failures)} of {total} bad outcomes:\n" + "\n".join(failures[:20])
    assert status == 0 and not any(mark in err for mark in SANITIZER_MARKS), err[-2000:]
    print(f"{RUNNER} --serve: {total} damaged lines, {turns} turns, {refused} refused")
    # Most damage breaks the JSON (refused); some leaves a line that still runs (a changed digit or
    # character of the text: 7 of 300 with this seed). Neither may vanish, else the test is wrong.
    assert turns >= 3 and refused > total // 2
