"""``edgecpm generate BUNDLE --device URL``: deploy, then run the runner there, text streamed back."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from edgecpm.runtime.deploy import deploy
from edgecpm.runtime.device_runner import RunnerRun, run_runner
from edgecpm.runtime.devices import open_device


def generate_on_device(url: str, bundle: Path, ids: list[int], n: int, on_text: Callable[[str], None],
                       timeout: float, threads: int | None = None) -> RunnerRun:
    d = deploy(open_device(url), bundle, timeout)
    args = ["--prompt-ids", ",".join(map(str, ids)), "-n", str(n)]
    if threads is not None:
        args += ["-t", str(threads)]
    return run_runner(d, args, on_text=on_text, timeout=timeout)
