"""Decode-speed benchmark: edgecpm's ternary / int4 kernels vs ExecuTorch's 8da4w XNNPACK path,
both as ExecuTorch programs through the same runtime, beside this machine's copy bandwidth.

Not a test: it prints tables. Shared machines are noisy, so read the ratios, and run it twice.

    .venv/bin/python benchmarks/kernels.py                  # 4096x4096 GEMV/GEMM + minicpm4-0.5b decode
    .venv/bin/python benchmarks/kernels.py --model-layers 4 # a shorter model (lowering 24 layers takes minutes)
    .venv/bin/python benchmarks/kernels.py --skip-model

llama.cpp and the whole-model peers are in benchmarks/peers.py (`make bench-peers`): each run
in its own process, interleaved rounds, our native runner beside them.

Rows: fp32 XNNPACK (the float baseline), 8da4w XNNPACK (torchao int4 g32 weights, int8 dynamic
activations: ExecuTorch's standard quantized path), and ours: int4 g32 and ternary TQ2_0 (each
also with the scalar kernels, to show what the SIMD buys). "GB/s" is weight bytes read per second;
"of copy" compares it with a large memcpy's rate (bytes copied per second) on the same machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "toolchain"))

from edgecpm.quant.config import Int4Config, TernaryConfig  # noqa: E402
from edgecpm.quant.linear import Int4Linear, TernaryLinear  # noqa: E402
from edgecpm.runtime.kernel_library import kernel_isa, load_library, set_kernel_isa  # noqa: E402


def copy_bandwidth_gbs(nbytes: int = 256 * 2**20, reps: int = 7) -> float:
    src = np.ones(nbytes // 4, dtype=np.float32)
    dst = np.empty_like(src)
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        np.copyto(dst, src)
        times.append(time.perf_counter() - t)
    return nbytes / min(times) / 1e9


def lower(module: nn.Module, example: torch.Tensor, xnnpack: bool):
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower
    from executorch.runtime import Runtime

    ep = torch.export.export(module, (example,), strict=False)
    edge = to_edge_transform_and_lower(ep, partitioner=[XnnpackPartitioner()] if xnnpack else [])
    # The method borrows the program's memory: keep the program alive beside it.
    program = Runtime.get().load_program(edge.to_executorch().buffer)
    return program, program.load_method("forward")


def time_method(method, x: torch.Tensor, reps: int) -> float:
    for _ in range(3):
        method.execute([x])
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        method.execute([x])
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def weight_bytes(module: nn.Module) -> int:
    return sum(b.numel() * b.element_size() for b in list(module.buffers()) + list(module.parameters()))


def linear_rows(n: int, k: int, m: int, reps: int, copy_gbs: float) -> list[tuple]:
    from torchao.quantization import Int8DynamicActivationIntxWeightConfig, quantize_
    from torchao.quantization.granularity import PerGroup

    torch.manual_seed(0)
    w = torch.randn(n, k) * 0.02
    x = torch.randn(1, m, k)
    fp = nn.Linear(k, n, bias=False)
    fp.weight.data.copy_(w)
    fp_bytes = weight_bytes(fp)
    da4w = nn.Linear(k, n, bias=False)
    da4w.weight.data.copy_(w)
    quantize_(da4w, Int8DynamicActivationIntxWeightConfig(weight_dtype=torch.int4, weight_granularity=PerGroup(32)))
    int4 = Int4Linear.from_float(w, Int4Config(group_size=32))
    tern = TernaryLinear.from_float(w, TernaryConfig(group_size=256, layout="tq2_0"))
    candidates = [("fp32 XNNPACK", fp, True, fp_bytes, None),
                  ("8da4w XNNPACK (int4 g32)", da4w, True, n * k // 2 + n * k // 32 * 2, None),
                  ("edgecpm int4 g32", int4, False, weight_bytes(int4), "best"),
                  ("edgecpm int4 g32", int4, False, weight_bytes(int4), "scalar"),
                  ("edgecpm ternary TQ2_0", tern, False, weight_bytes(tern), "best"),
                  ("edgecpm ternary TQ2_0", tern, False, weight_bytes(tern), "scalar")]
    best = kernel_isa()
    rows, base = [], None
    for name, module, xnn, nbytes, isa in candidates:
        if isa:
            set_kernel_isa(best if isa == "best" else isa)
            name = f"{name} [{kernel_isa()}]"
        _program, method = lower(module, x, xnn)
        t = time_method(method, x, reps)
        base = base or t
        gbs = nbytes / t / 1e9
        rows.append((name, nbytes / 2**20, t * 1e6, base / t, gbs, gbs / copy_gbs))
    set_kernel_isa(best)
    return rows


def print_table(title: str, header: tuple, rows: list[tuple], fmt: tuple) -> None:
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(" --- " for _ in header) + "|")
    for r in rows:
        print("| " + " | ".join(f.format(v) for f, v in zip(fmt, r)) + " |")



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", default="4096x4096", help="N x K of the linear")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--skip-model", action="store_true")
    ap.add_argument("--model-layers", type=int, default=24, help="minicpm4-0.5b has 24")
    ap.add_argument("--tokens", type=int, default=32, help="decode steps timed per model")
    args = ap.parse_args()

    load_library()
    copy_gbs = copy_bandwidth_gbs()
    print(f"machine: {torch.get_num_threads()} threads, copy bandwidth {copy_gbs:.1f} GB/s "
          f"(256 MiB memcpy), edgecpm kernels: {kernel_isa()}")
    n, k = map(int, args.shape.split("x"))
    header = ("path", "weights MiB", "µs", "vs fp32", "GB/s", "of copy")
    fmt = ("{}", "{:.2f}", "{:.0f}", "{:.2f}x", "{:.1f}", "{:.0%}")
    for m, what in ((1, "decode GEMV, M=1"), (32, "prefill GEMM, M=32")):
        print_table(f"{n}x{k} linear, {what}", header, linear_rows(n, k, m, args.reps, copy_gbs), fmt)
    if not args.skip_model:
        from model_bench import model_decode_rows

        rows = model_decode_rows(args.model_layers, args.tokens)
        print_table(f"minicpm4-0.5b shapes ({args.model_layers} layers, random weights), decode of "
                    f"{args.tokens} tokens after a 16-token prompt, Python runtime",
                    ("program", ".pte MiB", "prefill tok/s", "decode tok/s", "vs fp32"), rows,
                    ("{}", "{:.1f}", "{:.1f}", "{:.1f}", "{:.2f}x"))


if __name__ == "__main__":
    main()
