"""Where peers' artifacts are kept between runs: an 8da4w export of a 0.5B model takes 15-20
minutes on 2 cores, a GGUF export seconds to a minute; neither changes while its checkpoint does not.

``$EDGECPM_CACHE`` (default ``$XDG_CACHE_HOME/edgecpm``, else ``~/.cache/edgecpm``) / ``peers`` /
``<kind>-<key>``, the key a hash of the checkpoint's resolved path, its config and its weight
files' sizes and modification times: a re-quantized or re-written checkpoint gets a new folder.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def cache_root() -> Path:
    if os.environ.get("EDGECPM_CACHE"):
        return Path(os.environ["EDGECPM_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "edgecpm"


def checkpoint_key(model_dir: Path) -> str:
    model_dir = model_dir.resolve()
    h = hashlib.sha256(str(model_dir).encode())
    for name in sorted(p.name for p in model_dir.iterdir() if p.suffix in (".json", ".safetensors")):
        st = (model_dir / name).stat()
        h.update(f"{name}:{st.st_size}:{st.st_mtime_ns};".encode())
    h.update((model_dir / "config.json").read_bytes())
    return h.hexdigest()[:16]


def peer_dir(kind: str, model_dir: Path) -> Path:
    folder = cache_root() / "peers" / f"{kind}-{checkpoint_key(model_dir)}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
