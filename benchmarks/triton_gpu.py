"""GPU reference kernels vs torch's bf16 matmul, on CUDA (the lent GPU machine; not run in CI).

    .venv/bin/python benchmarks/triton_gpu.py     # prints a table; needs a CUDA GPU and triton

Shapes: 4096x4096 and 4096x16384 (N x K), M = 1 (decode) and M = 32 (prefill). Our kernels read
packed int4 g32 / TQ2_0 bytes; the bf16 row reads 2 bytes per weight. Times are CUDA-event medians.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "toolchain"))

from edgecpm.kernels import triton_linear  # noqa: E402
from edgecpm.quant.config import Int4Config, TernaryConfig  # noqa: E402
from edgecpm.quant.linear import Int4Linear, TernaryLinear  # noqa: E402


def cuda_time(fn, reps: int = 50) -> float:
    for _ in range(5):
        fn()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) * 1e3)
    return statistics.median(times)


def main() -> None:
    if not torch.cuda.is_available():
        sys.exit("benchmarks/triton_gpu.py needs a CUDA GPU")
    print(f"device: {torch.cuda.get_device_name()}\n")
    print("| N x K | M | bf16 matmul µs | int4 g32 µs | ternary TQ2_0 µs |")
    print("| --- | --- | --- | --- | --- |")
    for n, k in ((4096, 4096), (4096, 16384)):
        w = torch.randn(n, k) * 0.02
        int4 = Int4Linear.from_float(w, Int4Config(group_size=32)).cuda()
        tern = TernaryLinear.from_float(w, TernaryConfig(group_size=256)).cuda()
        wb = w.to("cuda", torch.bfloat16)
        for m in (1, 32):
            x = torch.randn(1, m, k, device="cuda")
            xb = x.bfloat16()
            t_bf16 = cuda_time(lambda: xb @ wb.T)
            t_int4 = cuda_time(lambda: triton_linear.int4_linear(x, int4.qweight, int4.scales, int4.zeros, 32))
            t_tern = cuda_time(lambda: triton_linear.ternary_linear(x, tern.packed, tern.scales, tern.layout,
                                                                     tern.group_size))
            print(f"| {n}x{k} | {m} | {t_bf16:.1f} | {t_int4:.1f} | {t_tern:.1f} |")


if __name__ == "__main__":
    main()
