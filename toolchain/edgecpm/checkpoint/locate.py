"""Turn a MODEL argument into a directory: a path, or the name of an embedded model."""

from __future__ import annotations

from pathlib import Path

from edgecpm.embedded import MODELS
from edgecpm.errors import CheckpointError


def resolve_model(arg: str | Path) -> Path:
    path = Path(arg)
    if path.exists():
        return path
    if str(arg) in MODELS:
        found = MODELS[str(arg)]
        if not (found / "config.json").is_file():
            raise CheckpointError(f"the embedded model {arg!r} is missing from {found}; "
                                  "re-install edgecpm or rebuild it with `make tiny-model`")
        return found
    raise CheckpointError(f"{arg}: no such model directory (or embedded model: {', '.join(MODELS)})")
