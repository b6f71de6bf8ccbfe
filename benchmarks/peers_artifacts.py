"""The files ``benchmarks.peers`` times, built under build/peers/<shape>/.

Cached (reused when present; `--fresh` rebuilds them): the random bf16 checkpoint of the preset
shape, its two quantizations (ternary TQ2_0 g256 and int4 sym g32, both with an int8 embedding
table / tied head), and ExecuTorch's 8da4w program (15-20 minutes at 0.5B). Re-made on every run,
because our code is what changes between runs: the .pte bundles and the GGUF files (the same
quantized bytes as the bundles, llama.cpp's TQ2_0 / Q4_0 + Q8_0 table).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from benchmarks.common import ROOT, progress

REAL_TOKENIZER = ROOT.parent / "shared" / "data" / "minicpm4-0.5b"


@dataclass
class Artifacts:
    ternary_pte: Path  # bundle directories
    int4_pte: Path
    ternary_gguf: Path
    int4_gguf: Path
    et_8da4w: Path | None  # None: not built (and why is in missing_8da4w)
    missing_8da4w: str = ""


def _say(msg: str) -> None:
    progress(f"[peers] {msg}")


def tokenizer_files(shape: str) -> dict[str, bytes]:
    """The real MiniCPM4 tokenizer for real shapes; the embedded tiny model's for `tiny`."""
    from edgecpm.checkpoint.locate import resolve_model
    from edgecpm.checkpoint.quantized import TOKENIZER_FILES

    src = resolve_model("tiny") if shape == "tiny" else REAL_TOKENIZER
    files = {n: (src / n).read_bytes() for n in TOKENIZER_FILES if (src / n).is_file()}
    if not files:
        sys.exit(f"{src}: no tokenizer files (needed for the GGUF vocabulary and the bundle's vocab.bin)")
    return files


def checkpoints(shape: str, cache: Path, fresh: bool) -> tuple[Path, Path]:
    from edgecpm.checkpoint.quantized import quantize_checkpoint
    from edgecpm.checkpoint.random_init import write_random_checkpoint
    from edgecpm.model.presets import preset
    from edgecpm.quant.config import Int4Config, TernaryConfig

    fp = cache / "fp"
    if fresh or not (fp / "config.json").is_file():
        _say(f"random {shape} checkpoint -> {fp}")
        write_random_checkpoint(preset(shape), fp, dtype=torch.bfloat16, overwrite=True,
                                extra_files=tokenizer_files(shape))
    out = []
    for name, qcfg in (("ternary", TernaryConfig(group_size=256, embeddings="int8")),
                       ("int4", Int4Config(group_size=32, embeddings="int8"))):
        q = cache / name
        if fresh or not (q / "config.json").is_file():
            _say(f"quantize {name} -> {q}")
            quantize_checkpoint(fp, q, qcfg, overwrite=True)
        out.append(q)
    return out[0], out[1]


def export_8da4w(shape: str, ctx: int, cache: Path) -> Path:
    """ExecuTorch's own export in a child process with cwd = the cache folder (export_llm may write
    relative to the working directory, and its memory should not stay in ours); PYTHONPATH names
    the repository so that ``-m benchmarks.peers_8da4w`` is found from there."""
    pte = cache / f"et-8da4w-ctx{ctx}.pte"
    _say(f"ExecuTorch export_llm 8da4w of {shape} shapes -> {pte} (15-20 minutes at 0.5B on 2 cores)")
    t = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    subprocess.run([sys.executable, "-m", "benchmarks.peers_8da4w", "export", "--shape", shape,
                    "--max-context", str(ctx), "-o", str(pte)], cwd=cache, check=True, env=env)
    _say(f"8da4w export took {time.perf_counter() - t:.0f} s")
    return pte


def build(shape: str, ctx: int, fresh: bool, make_8da4w: bool) -> Artifacts:
    from edgecpm.export.gguf import export_gguf
    from edgecpm.export.pte import export_pte

    cache = ROOT / "build" / "peers" / shape
    cache.mkdir(parents=True, exist_ok=True)
    ternary, int4 = checkpoints(shape, cache, fresh)
    paths = {}
    for q in (ternary, int4):
        t = time.perf_counter()
        paths[q.name, "pte"] = export_pte(q, cache / f"{q.name}-pte", max_seq_len=ctx, overwrite=True)
        paths[q.name, "gguf"] = export_gguf(q, cache / f"{q.name}.gguf", overwrite=True)
        _say(f"exported {q.name}: .pte bundle + GGUF in {time.perf_counter() - t:.0f} s")
    et = cache / f"et-8da4w-ctx{ctx}.pte"
    missing = ""
    if not et.is_file():
        if make_8da4w:
            et = export_8da4w(shape, ctx, cache)
            shutil.rmtree(cache / "outputs", ignore_errors=True)  # Hydra's leftovers, if any
        else:
            missing = (f"ExecuTorch 8da4w program not built ({et}); run without --no-8da4w-export to build it "
                       "(15-20 minutes at 0.5B)")
            et = None
    return Artifacts(paths["ternary", "pte"], paths["int4", "pte"], paths["ternary", "gguf"], paths["int4", "gguf"],
                     et, missing)
