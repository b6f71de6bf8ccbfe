"""The two bundles `edgecpm reproduce edge` times for sparse against dense decode at depth.

    .venv/bin/python -m benchmarks.peers_depth_artifacts [--fresh]

MiniCPM4-0.5B has no sparse attention, so the 0.5B-shape ternary checkpoint of
``benchmarks.peers_artifacts`` (random weights: speed does not depend on them; made here first when
missing) is copied with the MiniCPM4-8B's ``sparse_config`` added to its config.json, and that one
checkpoint is exported twice with a KV cache deep enough for the depths: ``--sparse`` and
``--no-sparse``. Same weights, same cache length, so the two differ only in the attention.
Everything is cached; ``--fresh`` re-makes it (the exports take a few minutes each at 0.5B).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import asdict
from pathlib import Path

from benchmarks.common import ROOT, progress
from benchmarks.peers_artifacts import checkpoints
from edgecpm.reproduce import depth_05b


SHAPE = "minicpm4-0.5b"  # the depths need the 0.5B's 32K positions (the tiny preset has 1K)


def _say(msg: str) -> None:
    progress(f"[peers-depth] {msg}")


def sparse_checkpoint(ternary: Path, out: Path, fresh: bool) -> Path:
    """``ternary`` with the 8B preset's sparse_config in its config.json, written to ``out``."""
    from edgecpm.atomic import atomic_dir
    from edgecpm.model.presets import preset

    if not fresh and (out / "config.json").is_file():
        return out
    _say(f"{ternary} + the MiniCPM4-8B sparse_config -> {out}")
    with atomic_dir(out, overwrite=True) as tmp:
        for f in ternary.iterdir():
            if f.is_file():
                shutil.copy2(f, tmp / f.name)
        config = json.loads((tmp / "config.json").read_text())
        config["sparse_config"] = asdict(preset("minicpm4-8b").sparse_config)
        (tmp / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return out


def build(shape: str, fresh: bool) -> dict[str, Path]:
    """The dense and sparse bundles under build/peers/SHAPE/, made when missing (or ``fresh``)."""
    from edgecpm.export.pte import export_pte

    cache = ROOT / "build" / "peers" / shape
    cache.mkdir(parents=True, exist_ok=True)
    ternary, _ = checkpoints(shape, cache, fresh=False)
    ckpt = sparse_checkpoint(ternary, cache / depth_05b.SPARSE_CHECKPOINT, fresh)
    bundles = {}
    for mode, name in depth_05b.BUNDLES.items():
        bundle = cache / name
        if fresh or depth_05b.missing_bundle(cache, mode):
            t = time.perf_counter()
            _say(f"export {mode} attention, max_seq_len {depth_05b.MAX_SEQ_LEN} -> {bundle}")
            export_pte(ckpt, bundle, max_seq_len=depth_05b.MAX_SEQ_LEN, overwrite=True,
                       progress=_say, sparse=mode == "sparse")
            _say(f"exported {mode} in {time.perf_counter() - t:.0f} s")
        bundles[mode] = bundle
    return bundles


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fresh", action="store_true", help="re-make the sparse checkpoint and both bundles")
    args = ap.parse_args()
    for mode, bundle in build(SHAPE, args.fresh).items():
        print(f"{mode}: {bundle}")


if __name__ == "__main__":
    main()
