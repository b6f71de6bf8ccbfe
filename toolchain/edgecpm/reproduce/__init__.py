"""``edgecpm reproduce``: the papers' claims (MiniCPM4 / BitCPM, InfLLM-v2, FR-Spec) re-measured
with edgecpm's own code at the scale this machine allows, each printed beside the paper's figure.

One module per experiment (``frspec``, ``infllmv2``, ``bitcpm``, ``edge``), each returning an
``ExperimentResult``; ``render`` prints them and draws the plots.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

EXPERIMENTS = ("frspec", "infllmv2", "bitcpm", "edge")
DEFAULT_ARTIFACTS = Path("build/peers/minicpm4-0.5b")


def experiment_names(choice: str) -> list[str]:
    """``all`` or one experiment's name -> the experiments to run, in the report's order."""
    if choice == "all":
        return list(EXPERIMENTS)
    if choice not in EXPERIMENTS:
        raise ValueError(f"experiment {choice!r}: choose one of {', '.join(EXPERIMENTS)} or all")
    return [choice]


def find_tokenizer(given: Path | None, artifacts: Path) -> Path | None:
    """The real MiniCPM4 tokenizer folder: ``given``; else the shared data folder
    (``$EDGECPM_SHARED/data/minicpm4-0.5b``); else the 0.5B artifacts' fp checkpoint, which
    carries a copy; None when none holds a ``tokenizer.model`` and a ``config.json``."""
    candidates = [given] if given is not None else []
    if os.environ.get("EDGECPM_SHARED"):
        candidates.append(Path(os.environ["EDGECPM_SHARED"]) / "data" / "minicpm4-0.5b")
    candidates.append(artifacts / "fp")
    for c in candidates:
        if (c / "tokenizer.model").is_file() and (c / "config.json").is_file():
            return c
    return None


def header(gpu: bool) -> dict:
    from edgecpm.bench_records import cpu_name

    device = "host"
    if gpu:
        import torch

        device = f"host + {torch.cuda.get_device_name()}"
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{cpu_name()}, {os.cpu_count()} cores", "device": device}


def run_experiment(name: str, gpu: bool, artifacts: Path, tokenizer: Path | None, quick: bool):
    if name == "frspec":
        from edgecpm.reproduce import frspec

        return frspec.run(tokenizer, quick)
    if name == "infllmv2":
        from edgecpm.reproduce import infllmv2

        return infllmv2.run(gpu, quick)
    if name == "bitcpm":
        from edgecpm.reproduce import bitcpm

        return bitcpm.run(artifacts, quick)
    from edgecpm.reproduce import edge

    return edge.run(artifacts, quick)
