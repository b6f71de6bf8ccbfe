"""``--device`` and ``--timeout`` on generate, bench and deploy: what is refused before any
connection is made, each as one line naming the option."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from edgecpm.cli.app import app


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("args, message", [
    (["generate", "tiny", "-p", "x", "--device", "ssh://h", "--temperature", 0.7],
     "--temperature: not with --device ssh://h: the device's runner decodes greedily"),
    (["generate", "tiny", "-p", "x", "--device", "adb://S", "--spec", "tiny-draft"],
     "--spec: not with --device adb://S"),
    (["generate", "tiny", "-p", "x", "--device", "ssh://h", "--max-seq-len", 64], "--max-seq-len: not with --device"),
    (["generate", "tiny", "-p", "x", "--device", "ssh://h"], "tiny: --device runs an exported bundle"),
    (["generate", "tiny", "-p", "x", "--device", "cuda"], "--device cuda: expected host, ssh://"),
    (["generate", "tiny", "-p", "x", "--timeout", 5], "--timeout: only with a remote --device"),
    (["generate", "tiny", "-p", "x", "--device", "ssh://h", "--timeout", 0], "--timeout 0.0: must be at least 1"),
    (["generate", "tiny", "-p", "x", "--device", "ssh://h:99999"], "the port is not a number from 1 to 65535"),
    (["bench", "tiny", "--device", "ssh://h", "--dtype", "bf16"], "--dtype: not with --device ssh://h"),
    (["bench", "tiny", "--device", "ssh://h", "--threads", 0], "--threads 0: must be at least 1"),
    (["bench", "tiny", "--device", "host", "--timeout", 5], "--timeout: only with a remote --device"),
    (["deploy", "tiny", "--device", "host"], "--device host: deploy copies to a remote device"),
    (["deploy", "tiny", "--device", "ssh://h"], "tiny: --device runs an exported bundle"),
    (["deploy", "tiny", "--device", "adb://"], "--device adb://: expected adb://SERIAL"),
])
def test_refused_before_connecting(args, message):
    r = invoke(*args)
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.output
