"""GPU reference kernels vs torch's bf16 matmul, on CUDA (the lent GPU machine; not run in CI).

    .venv/bin/python -m benchmarks.triton_gpu             # prints a table; needs a CUDA GPU and triton
    .venv/bin/python -m benchmarks.triton_gpu --reps 5    # quick

Shapes: 4096x4096 and 4096x16384 (N x K), M = 1 (decode) and M = 32 (prefill). Our kernels read
packed int4 g32 / TQ2_0 bytes; the bf16 row reads 2 bytes per weight (the size column, so GB/s
is the weight bytes streamed per second). Times are ms per call after 5 warm-up calls, the device
synchronized before each clock read; "vs bf16" is the ratio of medians.
"""

from __future__ import annotations

import argparse
import sys

import torch

from benchmarks.common import add_format_option, emit
from edgecpm.bench_records import BenchReport, BenchRow
from edgecpm.bench_timing import cuda_sync, in_ms, time_calls
from edgecpm.quant.config import Int4Config, TernaryConfig
from edgecpm.quant.linear import Int4Linear, TernaryLinear


def nbytes(*tensors: torch.Tensor | None) -> int:
    return sum(t.numel() * t.element_size() for t in tensors if t is not None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=50, help="timed calls per row")
    add_format_option(ap)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("benchmarks.triton_gpu needs a CUDA GPU (torch.cuda.is_available() is False)")
    from edgecpm.quant import triton_linear

    sync, device = cuda_sync("cuda"), torch.cuda.get_device_name()
    report = BenchReport(title=f"Triton kernels vs torch's bf16 matmul on {device}")
    for n, k in ((4096, 4096), (4096, 16384)):
        w = torch.randn(n, k) * 0.02
        int4 = Int4Linear.from_float(w, Int4Config(group_size=32)).cuda()
        tern = TernaryLinear.from_float(w, TernaryConfig(group_size=256)).cuda()
        wb = w.to("cuda", torch.bfloat16)
        for m in (1, 32):
            x = torch.randn(1, m, k, device="cuda")
            xb = x.bfloat16()
            calls = [("torch bf16 matmul", nbytes(wb), lambda: xb @ wb.T),
                     ("triton int4 g32", nbytes(int4.qweight, int4.scales, int4.zeros),
                      lambda: triton_linear.int4_linear(x, int4.qweight, int4.scales, int4.zeros, 32)),
                     ("triton ternary TQ2_0", nbytes(tern.packed, tern.scales),
                      lambda: triton_linear.ternary_linear(x, tern.packed, tern.scales, tern.layout, tern.group_size))]
            base = None
            for backend, size, fn in calls:
                row = BenchRow(f"linear {n}x{k}", size / 2**20, n * k / 1e6, backend, None, f"m{m}",
                               in_ms(time_calls(fn, args.reps, warmup=5, sync=sync)), unit="ms", device=device)
                base = base or row.median
                row.extra["vs bf16"] = f"{base / row.median:.2f}x"
                report.rows.append(row)
    emit([report], args.format)


if __name__ == "__main__":
    main()
