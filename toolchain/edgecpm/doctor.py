"""``edgecpm doctor``: the versions that matter, each checked against what edgecpm expects."""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version

from edgecpm.torch_env import EXECUTORCH_PIN, TORCH_PIN


def _version(pkg: str) -> str | None:
    try:
        return version(pkg)
    except PackageNotFoundError:
        return None


def report() -> str:
    rows = [("python", platform.python_version(), "3.11"),
            ("torch", _version("torch"), TORCH_PIN),
            ("executorch", _version("executorch"), EXECUTORCH_PIN)]
    for pkg in ("safetensors", "tokenizers", "sentencepiece", "gguf", "triton"):
        rows.append((pkg, _version(pkg), "any"))
    lines = ["| component | found | wanted | ok |", "| --- | --- | --- | --- |"]
    for name, got, want in rows:
        ok = got is not None and (want == "any" or got.split("+")[0].startswith(want))
        lines.append(f"| {name} | {got or 'missing'} | {want} | {'yes' if ok else 'NO'} |")
    from edgecpm.checkpoint.locate import EMBEDDED

    for name, path in EMBEDDED.items():
        ok = (path / "model.safetensors").is_file()
        lines.append(f"| embedded model {name} | {path} | present | {'yes' if ok else 'NO'} |")
    lines.append(f"| cpu threads | {os.cpu_count()} | | |")
    return "\n".join(lines)
