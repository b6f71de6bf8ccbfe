"""InfLLM-v2 attention speed: edgecpm's sparse C++ kernel vs dense attention, MiniCPM4-8B head shapes
(32 query heads, 2 kv heads, head_dim 128), fp32, at long contexts.

Not a test: it prints a table of ms per layer. Shared machines are noisy; read the ratios, run it twice.

    .venv/bin/python -m benchmarks.infllm                      # 8K, 32K, 64K, 128K; decode + 64-row prefill chunk
    .venv/bin/python -m benchmarks.infllm --quick              # 8K and 32K, fewer repetitions
    .venv/bin/python -m benchmarks.infllm --contexts 131072 --steps decode --reps 30
    .venv/bin/python -m benchmarks.infllm --gpu                # also the Triton kernels vs torch SDPA (CUDA)

What is timed, per attention layer (both kv heads, all 32 query heads), the cache holding `context`
positions and the queries at the last ones (decode: p = context - 1; prefill chunk: the last
`--prefill-rows` positions):

- sparse: ``edgecpm::infllm_attention`` as the C++ kernel runs it (libedgecpm_kernels.so, the
  active ISA, the ExecuTorch thread pool), called through its C entry point on the tensors'
  memory, so no program input copies are timed (in a model the caches are program buffers).
  The 8B defaults: window 32 / stride 16, block 64, 1 init + 32 local blocks, a 96-block budget.
  dense_len is -1 so every context measures the sparse path (the model would run contexts below
  8K densely).
- dense, ours: the same kernel with every block selected (topk >= blocks: stage 1 is skipped and
  stage 2 streams the whole cache): the fair dense baseline, same code and threads.
- dense, torch: plain grouped matmuls, q.view(2, 16 * T, 128) @ k^T, softmax, @ v, per kv head
  (prefill rows in chunks of 16 so the score matrix stays small), causal mask on the last T
  columns; torch with the same thread count, and with 1 thread (on a shared, loaded machine its
  OpenMP barriers can make 2 threads slower than 1; the ratio uses the faster). Not SDPA with
  enable_gqa (it repeats K/V first).

Caches are cold, as for each layer of a real model: decode cycles through several layers' caches
(>= 512 MiB in all; the time is per layer), so the sparse kernel's working set (compressed keys
and 96 blocks, ~20 MB at 128K) is not left warm in L3 by the previous repetition; prefill runs one
layer after writing a 128 MiB buffer. Each row has the N repetitions' samples after one warm-up
pass; the ratios under the table compare the best of them (the least disturbed pass on a shared
machine). On the GPU every clock read follows a device synchronize.
"""

from __future__ import annotations

import argparse
import math

import torch

from benchmarks.common import add_format_option, emit, progress
from edgecpm.attention.infllm_v2 import SparseParams
from edgecpm.bench_records import BenchReport, BenchRow, cpu_name
from edgecpm.bench_timing import cuda_sync, in_ms, time_calls
from edgecpm.runtime.infllm_entry import bind, kernel_call, random_cache
from edgecpm.runtime.kernel_library import kernel_isa, load_library, set_kernel_isa

HQ, HKV, D = 32, 2, 128


def torch_dense(q, k, v):
    """Plain grouped matmuls (the fair dense baseline): per kv head, its 16 query heads at once."""
    b, hq, t, d = q.shape
    g = hq // k.shape[1]
    s = k.shape[2]
    out = torch.empty_like(q)
    qg = q.view(b, k.shape[1], g, t, d)
    rows = 16
    for h in range(k.shape[1]):
        kt = k[:, h].transpose(-1, -2)
        for r0 in range(0, t, rows):
            r1 = min(t, r0 + rows)
            x = qg[:, h, :, r0:r1].reshape(b, g * (r1 - r0), d)
            scores = (x @ kt) * (1.0 / math.sqrt(d))  # [b, g * rows, s]
            if t > 1:  # row r (position s - t + r) must not see the slots after it
                pos = torch.arange(r0, r1) + s - t
                future = torch.arange(s - t, s)[None, :] > pos[:, None]  # [rows, t]
                tail = scores[..., s - t:].view(b, g, r1 - r0, t)
                tail.masked_fill_(future, float("-inf"))
            p = torch.softmax(scores, dim=-1)
            out[:, h * g:(h + 1) * g, r0:r1] = (p @ v[:, h]).view(b, g, r1 - r0, d)
    return out


# Written over before each prefill repetition (not timed), so it starts with cold caches.
_FLUSH: list[torch.Tensor] = []


def _flush_caches() -> None:
    if not _FLUSH:
        _FLUSH.append(torch.zeros(32 * 2**20))  # 128 MiB
    _FLUSH[0].add_(1.0)


def steps(args) -> list[tuple[str, int]]:
    out = [("decode", 1)] if "decode" in args.steps else []
    return out + ([(f"prefill {args.prefill_rows}", args.prefill_rows)] if "prefill" in args.steps else [])


def make_cache(context: int, params: SparseParams, seed: int = 0):
    return random_cache(context, HKV, D, params, seed)


def timed_ms(calls: list, reps: int, flush: bool, sync=None) -> list[float]:
    """Milliseconds per call of each of ``reps`` passes through ``calls`` (one per layer), after a
    warm-up pass; ``flush``: the CPU caches are overwritten before each pass, outside the clock."""
    def one_pass():
        for f in calls:
            f()

    return in_ms(time_calls(one_pass, reps, sync=sync, setup=_flush_caches if flush else None), len(calls))


def layer_model(context: int) -> str:
    return f"InfLLM-v2 layer Hq {HQ} Hkv {HKV} D {D} fp32 @ {context // 1024}K"


def cpu_report(args) -> BenchReport:
    lib = load_library()
    fn = bind(lib)
    if args.isa:
        set_kernel_isa(args.isa, lib)
    threads = int(lib.edgecpm_kernels_threads())
    torch.set_num_threads(threads)
    sparse = SparseParams(dense_len=-1)  # the 8B defaults, sparse at every context
    isa, device = kernel_isa(lib), cpu_name()
    report = BenchReport(title=f"InfLLM-v2 attention, per layer: Hq {HQ}, Hkv {HKV}, D {D}, fp32; kernel ISA {isa}, "
                               f"{threads} threads (ours and torch); budget {sparse.topk} blocks of "
                               f"{sparse.block_size}; test = step (layers cycled)")
    for context in args.contexts:
        # Decode cycles through enough layers' caches (>= 512 MiB in all) that no layer's data is
        # still in cache when its turn comes, as in a real decode step.
        n_layers = max(3, math.ceil(512 * 2**20 / (context * HKV * D * 4 * 2)))
        layers = [make_cache(context, sparse, seed=i) for i in range(n_layers)]
        nb = context // sparse.block_size + 1
        every = SparseParams(dense_len=-1, topk=nb, local_blocks=0)  # every block: the dense kernel
        for step, t in steps(args):
            if t > context:
                continue
            # Prefill calls are long: one layer, caches flushed before each repetition.
            use = layers if t == 1 else layers[:1]
            reps = args.reps if t == 1 else max(1, args.reps // 3)
            q = torch.randn(1, HQ, t, D, generator=torch.Generator().manual_seed(1))
            pos = torch.arange(context - t, context, dtype=torch.int64)
            out_s, out_d = torch.empty_like(q), torch.empty_like(q)

            def row(backend: str, n_threads: int, samples: list[float]) -> BenchRow:
                r = BenchRow(layer_model(context), None, None, backend, n_threads, f"{step} ({len(use)} layers)",
                             samples, unit="ms", device=device)
                report.rows.append(r)
                return r

            ms_s = row(f"edgecpm sparse {isa}", threads, timed_ms(
                [lambda c=c: kernel_call(fn, q, *c, pos, out_s, sparse) for c in use], reps, t > 1))
            ms_d = row(f"edgecpm dense {isa}", threads, timed_ms(
                [lambda c=c: kernel_call(fn, q, *c, pos, out_d, every) for c in use], reps, t > 1))
            best = min(ms_s.samples)
            note = f"{context // 1024}K {step}: dense ours / sparse {min(ms_d.samples) / best:.1f}x"
            if not args.skip_torch:
                k, v, ck = use[-1]
                ref = torch_dense(q, k, v)
                assert (ref - out_d).abs().max().item() < 1e-4, "our dense kernel and torch disagree"
                # On a loaded machine torch's OpenMP barriers can make 2 threads slower than 1:
                # both are shown, and the ratio uses the faster.
                torch_best = []
                for n in dict.fromkeys((threads, 1)):
                    torch.set_num_threads(n)
                    torch_best.append(min(row("torch dense", n, timed_ms(
                        [lambda c=c: torch_dense(q, c[0], c[1]) for c in use], reps, t > 1)).samples))
                torch.set_num_threads(threads)
                note += f", best torch / sparse {min(torch_best) / best:.1f}x"
            diff = (out_s - out_d).abs().max().item()  # sparse really is another answer
            report.notes.append(f"{note}; max |sparse - dense| {diff:.2f}")
            progress(f"[infllm] {note}")
        del layers
    return report


def gpu_report(args) -> BenchReport | None:
    if not torch.cuda.is_available():
        progress("\n--gpu: skipped, no CUDA device here (torch.cuda.is_available() is False)")
        return None
    import torch.nn.functional as F

    from edgecpm.attention import triton_infllm

    sparse = SparseParams(dense_len=-1)
    dev = torch.device("cuda")
    sync, name = cuda_sync(dev), torch.cuda.get_device_name()
    report = BenchReport(title=f"GPU ({name}): Triton InfLLM-v2 kernels vs torch SDPA (fp32, dense causal)")
    for context in args.contexts:
        k, v, ck = (x.to(dev) for x in make_cache(context, sparse))
        kr, vr = k.repeat_interleave(HQ // HKV, 1), v.repeat_interleave(HQ // HKV, 1)
        for step, t in steps(args):
            q = torch.randn(1, HQ, t, D, device=dev)
            pos = torch.arange(context - t, context, device=dev)
            mask = torch.arange(context, device=dev)[None, :] <= pos[:, None]
            ms = {}
            for backend, call in (
                    ("triton sparse", lambda: triton_infllm.infllm_attention(q, k, v, ck, pos, *sparse.op_args())),
                    ("torch SDPA dense", lambda: F.scaled_dot_product_attention(q, kr, vr, attn_mask=mask))):
                r = BenchRow(layer_model(context), None, None, backend, None, step,
                             timed_ms([call], args.reps, flush=False, sync=sync), unit="ms", device=name)
                report.rows.append(r)
                ms[backend] = r.median
            ratio = ms["torch SDPA dense"] / ms["triton sparse"]
            report.notes.append(f"{context // 1024}K {step}: SDPA / sparse {ratio:.1f}x (medians)")
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--contexts", type=lambda s: [int(x) for x in s.split(",")],
                    default=[8192, 32768, 65536, 131072], help="comma-separated cache lengths")
    ap.add_argument("--prefill-rows", type=int, default=64, help="query rows of the prefill chunk")
    ap.add_argument("--steps", default="decode,prefill", help="which of decode,prefill to time")
    ap.add_argument("--reps", type=int, default=9, help="timed repetitions per decode cell (prefill: a third)")
    ap.add_argument("--quick", action="store_true", help="8K and 32K, 3 repetitions")
    ap.add_argument("--isa", help="force a kernel ISA (scalar, avx2, neon, neon-dotprod)")
    ap.add_argument("--skip-torch", action="store_true", help="no torch dense column (it is the slow one)")
    ap.add_argument("--gpu", action="store_true", help="also time the Triton kernels vs SDPA on CUDA")
    ap.add_argument("--gpu-only", action="store_true", help="only the GPU table (no CPU kernels needed)")
    add_format_option(ap)
    args = ap.parse_args()
    if args.quick:
        args.contexts, args.reps = [8192, 32768], 3
    reports = [] if args.gpu_only else [cpu_report(args)]
    if args.gpu or args.gpu_only:
        reports.append(gpu_report(args))
    emit([r for r in reports if r is not None], args.format)


if __name__ == "__main__":
    main()
