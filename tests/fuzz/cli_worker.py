"""Runs the fuzz plan of test_cli_fuzz.py through the ``edgecpm`` CLI, in its own process.

A separate process because a mutated program can end the one that loads it: ExecuTorch's failed
checks exit through edgecpm's abort handler (one error line, status 2), and a crash would be a
signal. Either way the test sees which case's "start" line came last, and starts a new worker at
the case after it. Each finished case prints one JSON line: the exit code, whether it raised
something other than a clean exit (a traceback for the user), and what it left in the output
folder after failing.

usage: python -m tests.fuzz.cli_worker PLAN.json FIRST_CASE
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from typer.testing import CliRunner

from edgecpm.checksum import file_sha256
from edgecpm.cli.app import app
from tests.fuzz.mutations import mutations


def _set_manifest_hash(bundle: Path, name: str) -> None:
    """A hostile file comes with a matching checksum: rehash so the loader itself meets the bytes."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["sha256"][name] = file_sha256(bundle / name)
    (bundle / "manifest.json").write_text(json.dumps(manifest))


def run_group(group: dict, scratch: Path, cli: CliRunner, first: int) -> None:
    """The group's cases from number ``first`` on (cases are numbered across the plan)."""
    work = scratch / group["name"]
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(group["dir"], work)
    target = work / group["file"]
    pristine = target.read_bytes()
    manifest = (work / "manifest.json").read_bytes() if group.get("rehash") else None
    outputs = scratch / f"{group['name']}-out"
    shutil.rmtree(outputs, ignore_errors=True)
    outputs.mkdir()
    cases = mutations(pristine, group["seed"], group["count"], group.get("window"))
    for number, (label, data) in enumerate(cases, start=group["first_case"]):
        if number < first:
            continue
        case = f"{group['name']}/{label}"
        print(json.dumps({"start": case, "number": number, "outputs": str(outputs)}), flush=True)
        target.write_bytes(data)
        if manifest is not None:
            (work / "manifest.json").write_bytes(manifest)
            _set_manifest_hash(work, group["file"])
        argv = [a.replace("{dir}", str(work)).replace("{out}", str(outputs / "out")) for a in group["argv"]]
        res = cli.invoke(app, argv)
        raised = res.exception is not None and not isinstance(res.exception, SystemExit)
        left = sorted(p.name for p in outputs.iterdir())
        print(json.dumps({"case": case, "exit": res.exit_code, "raised": repr(res.exception) if raised else None,
                          "left": left if res.exit_code != 0 else [], "tail": (res.output.strip().splitlines() or [""])[-1]}), flush=True)
        shutil.rmtree(outputs)
        outputs.mkdir()
    target.write_bytes(pristine)


def main(plan_path: str, first: int) -> None:
    plan = json.loads(Path(plan_path).read_text())
    cli = CliRunner()
    for group in plan["groups"]:
        if group["first_case"] + group["count"] > first:
            run_group(group, Path(plan["scratch"]), cli, first)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
