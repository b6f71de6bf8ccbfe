"""Power drawn during a run on a Jetson, from ``tegrastats`` sampled beside it.

Each tegrastats line ends with its power rails as ``NAME CURRENTmW/AVERAGEmW`` (JetPack 5/6;
JetPack 4 prints ``NAME CURRENT/AVERAGE`` without the unit). The board's total is its input rail
where it has one (``VDD_IN`` on Orin NX/Nano, ``POM_5V_IN`` on JetPack 4 boards); AGX Orin reports
no input rail, so its total is the sum of the rails it lists (module rails, not the carrier
board). ``PowerReading.method`` says which. Watts are the mean of the instantaneous readings.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

INTERVAL_MS = 100
_INPUT_RAILS = ("VDD_IN", "POM_5V_IN")
# NAME 1234mW/1234mW (or NAME 1234/1234), not followed by a unit such as the MB of RAM 2257/30536MB.
_RAIL = re.compile(r"\b([A-Z][A-Z0-9_]*) (\d+)(?:mW)?/(\d+)(?:mW)?(?=\s|$)")

# $1 = log file on the device, $2 = interval (ms), then the command: tegrastats samples into the
# log while the command runs, and is stopped when it ends; the exit status is the command's.
SAMPLED = """log=$1; interval=$2; shift 2
tegrastats --interval "$interval" > "$log" 2>&1 &
t=$!
"$@"
status=$?
kill "$t" 2>/dev/null
wait "$t" 2>/dev/null
exit $status
"""
READ_LOG = 'cat "$1" 2>/dev/null; rm -f "$1"'


@dataclass(frozen=True)
class PowerReading:
    watts: float         # mean total over the samples
    samples: int
    method: str          # "VDD_IN" (an input rail) or "sum of VDD_GPU_SOC+..." (its rails)
    rails_w: dict        # mean watts per rail


def rails(line: str) -> dict[str, int]:
    """One tegrastats line's rails, in mW (a rail name that repeats, like NC, is summed)."""
    found: dict[str, int] = {}
    for name, current, _average in _RAIL.findall(line):
        if name in ("RAM", "SWAP", "IRAM"):
            continue
        found[name] = found.get(name, 0) + int(current)
    return found


def parse_tegrastats(log: str) -> PowerReading | None:
    """The run's power from tegrastats' lines; None when no line had rails."""
    samples = [r for r in (rails(line) for line in log.splitlines()) if r]
    if not samples:
        return None
    names = list(samples[0])
    source = next((n for n in _INPUT_RAILS if n in names), None)
    totals = [s[source] if source else sum(s.values()) for s in samples]
    method = source or "sum of " + "+".join(n for n in names if n != "NC")
    per_rail = {n: statistics.mean(s.get(n, 0) for s in samples) / 1000 for n in names}
    return PowerReading(statistics.mean(totals) / 1000, len(samples), method, per_rail)
