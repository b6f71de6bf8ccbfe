"""InfLLM-v2's claims (MINICPM4.md §3), re-measured: attention speedup of the sparse kernel over
dense per decode step and per prefill chunk, and how close sparse stays to dense on long inputs.

Shapes: one MiniCPM4-8B attention layer (32 query heads, 2 kv heads, head_dim 128), fp32, the 8B
sparse defaults (window 32 / stride 16, blocks of 64, 1 init + 32 local, a 96-block budget) with
dense_len -1 so every context takes the sparse path. On the host both sides are our C++ kernel
(dense = every block selected: same code, same threads); with ``--device cuda`` the Triton
kernel against torch's SDPA. Decode cycles through enough layers' caches (>= 128 MiB) that none
is still in cache when its turn comes; each prefill repetition first overwrites a 128 MiB buffer.
The ratio compares the best repetition of each side (the least disturbed on a shared machine).
"""

from __future__ import annotations

import math

import torch

from edgecpm.attention.infllm_v2 import SparseParams
from edgecpm.reproduce.claims import Claim, ExperimentResult, not_measured, ratio
from edgecpm.reproduce.infllm_agreement import mass_kept, output_agreement, plant_needles

HQ, HKV, D = 32, 2, 128
CONTEXTS = (8192, 32768, 65536, 131072)
PREFILL_ROWS = 64
PAPER_KERNEL = "7.4–9.3× (kernel vs FlashAttention-2, 16 blocks)"
PAPER_KERNEL_LOW = 7.4
PAPER_QUALITY = 98.1
_FLUSH: list[torch.Tensor] = []


def speedup(dense_s: list[float], sparse_s: list[float]) -> float:
    """Dense over sparse time, best repetition of each."""
    return ratio(min(dense_s), min(sparse_s))


def _flush() -> None:
    if not _FLUSH:
        _FLUSH.append(torch.zeros(32 * 2**20))  # 128 MiB
    _FLUSH[0].add_(1.0)


def layers_to_cycle(context: int) -> int:
    """Layer caches to cycle through in decode so their total (k + v, fp32) is >= 128 MiB."""
    return max(2, math.ceil(128 * 2**20 / (context * HKV * D * 4 * 2)))


def kernel_entry():
    """The C++ kernel's entry point, its library loaded and ExecuTorch's threadpool started under
    the native-log filter (both print CPU-probing noise to stderr once)."""
    from edgecpm.quiet import native_stderr_filtered, start_executorch_threadpool
    from edgecpm.runtime.infllm_entry import bind
    from edgecpm.runtime.kernel_library import load_library

    with native_stderr_filtered():
        lib = load_library()
    start_executorch_threadpool()
    return bind(lib)


def host_times(context: int, rows: int, reps: int) -> dict:
    """Seconds per layer of the sparse and the dense kernel, and both outputs of the last layer."""
    from edgecpm.bench_timing import time_calls
    from edgecpm.runtime.infllm_entry import kernel_call, random_cache

    fn = kernel_entry()
    sparse = SparseParams(dense_len=-1)
    every = SparseParams(dense_len=-1, topk=context // sparse.block_size + 1, local_blocks=0)
    n_layers = layers_to_cycle(context) if rows == 1 else 1   # prefill: one layer, caches flushed instead
    layers = [random_cache(context, HKV, D, sparse, seed=i) for i in range(n_layers)]
    q = torch.randn(1, HQ, rows, D, generator=torch.Generator().manual_seed(1))
    pos = torch.arange(context - rows, context, dtype=torch.int64)
    outs = {"sparse": torch.empty_like(q), "dense": torch.empty_like(q)}
    times = {}
    for label, params in (("sparse", sparse), ("dense", every)):
        def one_pass(params=params, out=outs[label]):
            for k, v, ck in layers:
                kernel_call(fn, q, k, v, ck, pos, out, params)
        seconds = time_calls(one_pass, reps, setup=_flush if rows > 1 else None)
        times[label] = [s / len(layers) for s in seconds]
    return {"times": times, "outputs": outs}


def agreement(context: int) -> dict:
    """Attention mass kept and output agreement at decode, on random keys and with planted needles."""
    from edgecpm.runtime.infllm_entry import compressed_keys, kernel_call, random_cache

    fn = kernel_entry()
    sparse = SparseParams(dense_len=-1)
    every = SparseParams(dense_len=-1, topk=context // sparse.block_size + 1, local_blocks=0)
    q = torch.randn(1, HQ, 1, D, generator=torch.Generator().manual_seed(2))
    pos = torch.tensor([context - 1], dtype=torch.int64)
    result = {}
    k, v, ck = random_cache(context, HKV, D, sparse, seed=3)
    for label in ("random", "needle"):
        if label == "needle":
            plant_needles(k, q, sparse)
            ck = compressed_keys(k, sparse)
        out_s, out_d = torch.empty_like(q), torch.empty_like(q)
        kernel_call(fn, q, k, v, ck, pos, out_s, sparse)
        kernel_call(fn, q, k, v, ck, pos, out_d, every)
        cos, rel = output_agreement(out_s, out_d)
        result[label] = {"mass_kept": mass_kept(q, k, ck, sparse), "cosine": cos, "rel_l2": rel}
    return result


def gpu_times(context: int, rows: int, reps: int) -> dict:
    """The Triton sparse kernel and torch SDPA (dense, causal) on CUDA: seconds per call."""
    import torch.nn.functional as F

    from edgecpm.attention import triton_infllm
    from edgecpm.bench_timing import cuda_sync, time_calls
    from edgecpm.runtime.infllm_entry import random_cache

    dev = torch.device("cuda")
    sparse = SparseParams(dense_len=-1)
    k, v, ck = (x.to(dev) for x in random_cache(context, HKV, D, sparse))
    kr, vr = k.repeat_interleave(HQ // HKV, 1), v.repeat_interleave(HQ // HKV, 1)
    q = torch.randn(1, HQ, rows, D, device=dev)
    pos = torch.arange(context - rows, context, device=dev)
    mask = torch.arange(context, device=dev)[None, :] <= pos[:, None]
    sync = cuda_sync(dev)
    return {"times": {
        "sparse": time_calls(lambda: triton_infllm.infllm_attention(q, k, v, ck, pos, *sparse.op_args()), reps,
                             sync=sync),
        "dense": time_calls(lambda: F.scaled_dot_product_attention(q, kr, vr, attn_mask=mask), reps, sync=sync)}}


def speed_claims(contexts, reps: int, device: str) -> tuple[list[Claim], dict]:
    claims, details = [], {}
    where = ("host C++ kernel, sparse vs its own dense (all blocks)" if device == "host"
             else f"{torch.cuda.get_device_name()}: Triton sparse vs SDPA dense")
    for step, rows in (("decode step", 1), (f"prefill chunk ({PREFILL_ROWS} rows)", PREFILL_ROWS)):
        for context in contexts:
            run_reps = reps if rows == 1 else max(2, reps // 3)
            m = host_times(context, rows, run_reps) if device == "host" else gpu_times(context, rows, run_reps)
            x = speedup(m["times"]["dense"], m["times"]["sparse"])
            details[f"{device} {step} @ {context}"] = m["times"]
            on = "" if device == "host" else ", GPU"
            claims.append(Claim(f"attention speedup over dense, {step} @ {context // 1024}K{on}", PAPER_KERNEL,
                                f"{x:.1f}×",
                                "dense time / sparse time, one layer", f"8B heads fp32, 96-block budget; {where}",
                                PAPER_KERNEL_LOW, x))
    return claims, details


def quality_claims(context: int) -> tuple[list[Claim], dict]:
    a = agreement(context)
    claims = []
    for label, note in (("random", "random keys (flat attention: the worst case)"),
                        ("needle", "4 planted far-away blocks (peaked attention)")):
        r = a[label]
        claims.append(Claim(f"sparse keeps dense attention, {label} keys @ {context // 1024}K",
                            f"{PAPER_QUALITY}% of long-context quality", f"{100 * r['mass_kept']:.1f}% "
                            f"(output cos {r['cosine']:.3f}, rel. err {r['rel_l2']:.2f})",
                            "dense attention mass inside the selected blocks", f"8B heads, decode; {note}",
                            PAPER_QUALITY, 100 * r["mass_kept"]))
    return claims, a


def run(gpu: bool = False, quick: bool = False) -> ExperimentResult:
    """Host rows always; ``gpu``: the CUDA rows too (Triton vs SDPA)."""
    from edgecpm.errors import KernelLibraryError

    contexts = CONTEXTS[:1] if quick else CONTEXTS
    try:
        kernel_entry()
        missing = ""
    except KernelLibraryError as e:   # the other experiments still run; these rows say why not
        missing = f"the C++ kernel library cannot be loaded ({e})"
    if missing:
        speed, details = [not_measured("attention speedup over dense (host)", PAPER_KERNEL,
                                       "dense time / sparse time, one layer", "8B heads fp32", missing)], {}
        quality = [not_measured("sparse keeps dense attention", f"{PAPER_QUALITY}% of long-context quality",
                                "dense attention mass inside the selected blocks", "8B heads, decode", missing)]
    else:
        speed, details = speed_claims(contexts, 3 if quick else 7, "host")
        quality, details["agreement"] = quality_claims(contexts[-1])
    if gpu:
        gpu_speed, gpu_details = speed_claims(contexts, 3 if quick else 10, "cuda")
        speed += gpu_speed
        details.update(gpu_details)
    end_to_end = [not_measured("end-to-end 8B speedup @ 128K", "2.13× prefill / 2.32× decode (8B W4A16)",
                               "tok/s ratio, sparse over dense model", "—",
                               "an 8B model at 128K context does not fit this machine's memory and time budget")]
    differs = ("The paper times 16 selected blocks against FlashAttention-2 on A100 / RTX 4090; ours times the model's "
               "96-block budget (6144 visible tokens) against the same C++ kernel reading every block on this CPU, so "
               "our speedup grows roughly as context / 6144 (1.3× at 8K); quality is the attention mass kept on "
               "synthetic keys, not the paper's benchmark scores, and no end-to-end 8B run fits here.")
    return ExperimentResult("infllmv2", "InfLLM-v2: trainable sparse attention", speed + quality + end_to_end, differs,
                            setting=f"{'host and CUDA' if gpu else 'host'}, Hq {HQ} Hkv {HKV} D {D} fp32, "
                                    f"contexts {list(contexts)}",
                            details=details)
