"""The same quantized weights in llama.cpp (GGUF Q4_0 / TQ2_0) and in edgecpm's .pte, one run.

    .venv/bin/pip install llama-cpp-python     # builds llama.cpp from source: ~10+ minutes on 2 cores
    .venv/bin/python benchmarks/llamacpp_peer.py [--layers 24] [--tokens 32]

A random minicpm4-0.5b-shape checkpoint (real tokenizer from ../shared/data/minicpm4-0.5b) is
quantized twice — int4 sym g32 (its bytes are llama.cpp Q4_0) and ternary g256 (TQ2_0) — and each
is exported both to GGUF (`edgecpm export --format gguf`) and to an ExecuTorch bundle. llama.cpp
runs the GGUF through llama-cpp-python; edgecpm runs the bundle through the ExecuTorch Python
runtime. Same prompt length, same number of greedy decode steps, same threads (2).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "toolchain"))

from edgecpm.checkpoint.quantized import quantize_checkpoint  # noqa: E402
from edgecpm.checkpoint.random_init import write_random_checkpoint  # noqa: E402
from edgecpm.export.gguf import export_gguf  # noqa: E402
from edgecpm.export.pte import PteModel, export_pte  # noqa: E402
from edgecpm.generate import generate  # noqa: E402
from edgecpm.model.presets import preset  # noqa: E402
from edgecpm.quant.config import Int4Config, TernaryConfig  # noqa: E402

TOKENIZER = ROOT.parent / "shared" / "data" / "minicpm4-0.5b"
PROMPT_LEN = 16


def llama_cpp_speed(gguf: Path, prompt: list[int], n_tokens: int) -> tuple[float, float]:
    from llama_cpp import Llama

    llm = Llama(model_path=str(gguf), n_ctx=PROMPT_LEN + n_tokens + 8, n_threads=2, n_batch=PROMPT_LEN,
                verbose=False)
    llm.eval(prompt + prompt[:2])  # warm-up: fault the mmapped weights in, as our .pte is already loaded
    llm.reset()
    t = time.perf_counter()
    llm.eval(prompt)
    prefill = len(prompt) / (time.perf_counter() - t)
    t = time.perf_counter()
    for _ in range(n_tokens):
        # Without logits_all, eval() no longer fills llm.scores: read the context's last logits.
        last = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
        llm.eval([int(last.argmax())])
    return prefill, n_tokens / (time.perf_counter() - t)


def pte_speed(bundle: Path, prompt: list[int], n_tokens: int) -> tuple[float, float]:
    model = PteModel(bundle)
    generate(model, prompt, 2)  # warm-up, as llama.cpp gets one
    res = generate(model, prompt, n_tokens)
    return res.prefill_tok_s, res.decode_tok_s


def gguf_rows(layers: int, n_tokens: int, pte: bool = False) -> list[tuple]:
    """(runtime, file MiB, prefill tok/s, decode tok/s) for llama.cpp Q4_0 and TQ2_0 — and, with
    ``pte``, for edgecpm's .pte of the same quantized checkpoint (block linears and the int8 table
    and tied head: the same bytes in both files)."""
    files = [p for p in TOKENIZER.glob("*") if p.name.startswith(("tokenizer", "added_tokens", "special_tokens"))]
    if not files:
        sys.exit(f"{TOKENIZER}: the MiniCPM4 tokenizer files are needed for the GGUF vocabulary")
    cfg = preset("minicpm4-0.5b")
    cfg.num_hidden_layers = layers
    prompt = torch.randint(3, 70000, (PROMPT_LEN,), generator=torch.Generator().manual_seed(0)).tolist()
    rows = []
    with tempfile.TemporaryDirectory(prefix="edgecpm-llamacpp-") as tmp:
        tmp = Path(tmp)
        write_random_checkpoint(cfg, tmp / "fp", dtype=torch.float32,
                                extra_files={p.name: p.read_bytes() for p in files})
        # int8 (Q8_0) table and head on both sides: llama.cpp's F32 head GEMV is slow here (measured
        # 2.3 GB/s), which would make the comparison about the head, not the block linears.
        for name, qcfg, fmt in (("int4 sym g32", Int4Config(group_size=32, embeddings="int8"), "Q4_0"),
                                ("ternary g256", TernaryConfig(group_size=256, embeddings="int8"), "TQ2_0")):
            q = tmp / name.replace(" ", "-")
            quantize_checkpoint(tmp / "fp", q, qcfg)
            gguf = export_gguf(q, tmp / f"{q.name}.gguf")
            runs = [(f"llama.cpp {fmt} + Q8_0 head (GGUF)", gguf.stat().st_size, llama_cpp_speed(gguf, prompt, n_tokens))]
            if pte:
                bundle = export_pte(q, tmp / f"{q.name}-pte", max_seq_len=PROMPT_LEN + n_tokens + 8)
                runs.append((f"edgecpm .pte ({name} + int8 head)", (bundle / "model.pte").stat().st_size,
                             pte_speed(bundle, prompt, n_tokens)))
            for runtime, size, (pp, tg) in runs:
                rows.append((runtime, size / 2**20, pp, tg))
                print(f"  {runtime}: prefill {pp:.1f} tok/s, decode {tg:.1f} tok/s", flush=True)
    return rows


def llama_cpp_available() -> bool:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--layers", type=int, default=24)
    ap.add_argument("--tokens", type=int, default=32)
    args = ap.parse_args()
    if not llama_cpp_available():
        sys.exit("llama-cpp-python is not installed: .venv/bin/pip install llama-cpp-python (builds llama.cpp)")
    rows = gguf_rows(args.layers, args.tokens, pte=True)
    print(f"\n### minicpm4-0.5b shapes ({args.layers} layers, random weights): prompt {PROMPT_LEN}, "
          f"{args.tokens} greedy tokens, 2 threads\n")
    print("| runtime | file MiB | prefill tok/s | decode tok/s |")
    print("| --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r[0]} | {r[1]:.1f} | {r[2]:.1f} | {r[3]:.1f} |")


if __name__ == "__main__":
    main()
