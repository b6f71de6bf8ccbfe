"""The README's quality table: the embedded tiny model and its ternary QAT twin under every
scheme, scored on the held-out split against the fp model (perplexity, ΔPPL, KLD, top-1).

    .venv/bin/python -m benchmarks.quality [OUT_DIR]        # make quality; default OUT_DIR out/quality

Each scheme is quantized by ``edgecpm quantize`` into OUT_DIR (replacing what is there, its
output in NAME.log beside it), then one ``edgecpm eval`` compares them all. Not a timing: the
figures are numerical, whatever the machine's load.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

# name -> the model and options of `edgecpm quantize`
SCHEMES = {
    "int4-g32": ["tiny", "--scheme", "int4", "--group-size", "32"],
    "int4-g128": ["tiny", "--scheme", "int4", "--group-size", "128"],
    "int4-g128-gptq": ["tiny", "--scheme", "int4", "--group-size", "128", "--method", "gptq", "--skip-first", "4"],
    "int4-g32-emb8": ["tiny", "--scheme", "int4", "--group-size", "32", "--embeddings", "int8"],
    "ternary-ptq": ["tiny", "--scheme", "ternary", "--group-size", "256"],
    "ternary-qat": ["tiny-ternary", "--scheme", "ternary", "--group-size", "256"],
    "ternary-qat-emb8": ["tiny-ternary", "--scheme", "ternary", "--group-size", "256", "--embeddings", "int8"],
}
# The eval's columns, in order: the reference first, the QAT model itself before its quantizations.
EVAL_ORDER = ["int4-g32", "int4-g128", "int4-g128-gptq", "int4-g32-emb8", "ternary-ptq", "tiny-ternary",
              "ternary-qat", "ternary-qat-emb8"]


def edgecpm(*args: str, log: Path | None = None) -> None:
    cmd = [sys.executable, "-m", "edgecpm.cli.app", *args]
    if log is None:
        subprocess.run(cmd, check=True)
        return
    with log.open("w") as f:
        if subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT).returncode != 0:
            sys.exit(f"edgecpm {' '.join(args)} failed; its output is in {log}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", type=Path, default=Path("out/quality"), help="where the models go")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, options in SCHEMES.items():
        edgecpm("quantize", *options, "-o", str(args.out / name), "--force", log=args.out / f"{name}.log")
    edgecpm("eval", "tiny", *(name if name in ("tiny", "tiny-ternary") else str(args.out / name)
                              for name in EVAL_ORDER))


if __name__ == "__main__":
    main()
