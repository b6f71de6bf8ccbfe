"""Decode-speed benchmark: edgecpm's ternary / int4 kernels vs ExecuTorch's 8da4w XNNPACK path,
both as ExecuTorch programs through the same runtime, beside this machine's copy bandwidth.

Not a test: it prints tables. Shared machines are noisy, so read the ratios, and run it twice.

    .venv/bin/python -m benchmarks.kernels                   # 4096x4096 GEMV/GEMM + minicpm4-0.5b decode
    .venv/bin/python -m benchmarks.kernels --model-layers 4  # a shorter model (lowering 24 layers takes minutes)
    .venv/bin/python -m benchmarks.kernels --skip-model --shape 256x256 --reps 3   # quick

llama.cpp and the whole-model peers are in benchmarks.peers (`make bench-peers`): each run
in its own process, interleaved rounds, our native runner beside them.

Rows: fp32 XNNPACK (the float baseline), 8da4w XNNPACK (torchao int4 g32 weights, int8 dynamic
activations: ExecuTorch's standard quantized path), and ours: int4 g32 and ternary TQ2_0 (each
also with the scalar kernels, to show what the SIMD buys), in ms per call over --reps calls after
3 warm-ups. "GB/s" is weight bytes read per second (from the mean); "of copy" compares it with a
large memcpy's rate (bytes copied per second) on the same machine; "vs fp32" is the ratio of
medians.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from torch import nn

from benchmarks.common import add_format_option, emit
from edgecpm.bench import executorch_threads
from edgecpm.bench_records import BenchReport, BenchRow, cpu_name
from edgecpm.bench_timing import in_ms, time_calls
from edgecpm.quant.config import Int4Config, TernaryConfig
from edgecpm.quant.linear import Int4Linear, TernaryLinear
from edgecpm.runtime.kernel_library import kernel_isa, load_library, set_kernel_isa


def copy_bandwidth_gbs(nbytes: int = 256 * 2**20, reps: int = 7) -> float:
    """The best of ``reps`` copies of ``nbytes`` (the least disturbed one on a shared machine)."""
    src = np.ones(nbytes // 4, dtype=np.float32)
    dst = np.empty_like(src)
    return nbytes / min(time_calls(lambda: np.copyto(dst, src), reps)) / 1e9


def lower(module: nn.Module, example: torch.Tensor, xnnpack: bool):
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower
    from executorch.runtime import Runtime

    ep = torch.export.export(module, (example,), strict=False)
    edge = to_edge_transform_and_lower(ep, partitioner=[XnnpackPartitioner()] if xnnpack else [])
    # The method borrows the program's memory: keep the program alive beside it.
    program = Runtime.get().load_program(edge.to_executorch().buffer)
    return program, program.load_method("forward")


def time_method(method, x: torch.Tensor, reps: int) -> list[float]:
    """Milliseconds per call of ``reps`` calls after 3 warm-ups."""
    return in_ms(time_calls(lambda: method.execute([x]), reps, warmup=3))


def weight_bytes(module: nn.Module) -> int:
    return sum(b.numel() * b.element_size() for b in list(module.buffers()) + list(module.parameters()))


def linear_rows(n: int, k: int, m: int, test: str, reps: int, copy_gbs: float) -> list[BenchRow]:
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
    rows, base, device, threads = [], None, cpu_name(), executorch_threads()
    for name, module, xnn, nbytes, isa in candidates:
        backend = "executorch (python) + xnnpack" if xnn else "executorch (python) + edgecpm"
        if isa:
            set_kernel_isa(best if isa == "best" else isa)
            name, backend = f"{name} [{kernel_isa()}]", f"{backend} {kernel_isa()}"
        _program, method = lower(module, x, xnn)
        row = BenchRow(f"{n}x{k} linear: {name}", nbytes / 2**20, n * k / 1e6, backend, threads, test,
                       time_method(method, x, reps), unit="ms", device=device)
        base = base or row.median
        row.extra = {"vs fp32": f"{base / row.median:.2f}x", "of copy": f"{row.weight_gb_s / copy_gbs:.0%}"}
        rows.append(row)
    set_kernel_isa(best)
    return rows



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", default="4096x4096", help="N x K of the linear")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--skip-model", action="store_true")
    ap.add_argument("--model-layers", type=int, default=24, help="minicpm4-0.5b has 24")
    ap.add_argument("--tokens", type=int, default=32, help="decode steps timed per model")
    ap.add_argument("--model-reps", type=int, default=3, help="timed prefill + decode runs per model")
    add_format_option(ap)
    args = ap.parse_args()

    load_library()
    copy_gbs = copy_bandwidth_gbs()
    machine = (f"machine: {executorch_threads()} threads, copy bandwidth {copy_gbs:.1f} GB/s (256 MiB memcpy), "
               f"edgecpm kernels: {kernel_isa()}")
    n, k = map(int, args.shape.split("x"))
    reports = [BenchReport(linear_rows(n, k, m, test, args.reps, copy_gbs), title=f"{n}x{k} linear, {what}")
               for m, test, what in ((1, "gemv m1", "decode GEMV, M=1"), (32, "gemm m32", "prefill GEMM, M=32"))]
    reports[0].notes.append(machine)
    if not args.skip_model:
        from benchmarks.model_bench import model_decode_rows

        reports.append(BenchReport(
            model_decode_rows(args.model_layers, args.tokens, args.model_reps),
            title=f"minicpm4-0.5b shapes ({args.model_layers} layers, random weights), decode of {args.tokens} "
                  "tokens after a 16-token prompt, Python runtime"))
    emit(reports, args.format)


if __name__ == "__main__":
    main()
