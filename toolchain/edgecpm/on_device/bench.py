"""``edgecpm bench BUNDLE --device URL``: llama-bench rows measured by the runner on the device.

The report carries the device's fingerprint (``runtime.device_info``). On a Jetson each run is
sampled by tegrastats (every 100 ms) and the decode row gets the run's mean power (W) and
tokens per joule (decode rate / that power; a run is mostly decode, and tegrastats cannot tell
prefill's 100-ms slice apart, so the prefill row has none); the warnings say when the clocks are
not locked. On a phone the thermal status is read before and after the runs, and any status above
0 (Android's THERMAL_STATUS_NONE: LIGHT and up throttle) flags the numbers as throttled.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from edgecpm.bench_records import BenchReport, BenchRow
from edgecpm.errors import DeviceError
from edgecpm.on_device.bundle_info import BundleInfo, check_fits
from edgecpm.on_device.llama_bench import find_llama_bench, llama_bench_rows
from edgecpm.peers.compare import peer_sources, ratio_lines
from edgecpm.peers.llamacpp import gguf_of
from edgecpm.runtime.deploy import deploy
from edgecpm.runtime.device_info import read_thermal_status
from edgecpm.runtime.device_runner import run_runner
from edgecpm.runtime.devices import open_device


def bench_on_device(url: str, bundle: BundleInfo, n_prompt: int, n_gen: int, reps: int, seed: int,
                    threads: int | None, timeout: float, compare: list[str] = (),
                    weights: Path | None = None) -> BenchReport:
    """``compare``: ``llama.cpp`` adds llama-bench's rows from the device (``llama_bench``)."""
    check_fits(bundle, n_prompt, n_gen)
    gguf = _peer_gguf(bundle, compare, weights, url)
    cfg = bundle.config
    prompt = torch.randint(3, cfg.vocab_size, (n_prompt,), generator=torch.Generator().manual_seed(seed)).tolist()

    def args(n: int) -> list[str]:
        return ["--prompt-ids", ",".join(map(str, prompt)), "-n", str(n), "--stats-only",
                *([] if threads is None else ["-t", str(threads)])]

    d = deploy(open_device(url), bundle.path, timeout)
    llama_bench = find_llama_bench(d, timeout) if gguf is not None else None
    info = {**d.info, "warnings": list(d.info["warnings"])}
    sample_power = bool((info.get("jetson") or {}).get("tegrastats"))
    android = "android" in info
    if android:
        info["thermal_before"] = read_thermal_status(d.transport)
    run_runner(d, args(min(2, n_gen)), timeout=timeout)   # warm-up
    runs = [run_runner(d, args(n_gen), sample_power=sample_power, timeout=timeout) for _ in range(reps)]
    if android:
        info["thermal_after"] = read_thermal_status(d.transport)
        info["throttling"] = max(s or 0 for s in (info["thermal_before"], info["thermal_after"])) > 0
    power = [r.power.watts for r in runs] if sample_power and all(r.power for r in runs) else None
    if info.get("throttling"):
        info["warnings"].append(f"{info['device']}: thermal status {info['thermal_before']} -> "
                                f"{info['thermal_after']}: the phone throttled, so these rates are below its best")
    if sample_power:
        info["power_method"] = runs[0].power.method if power else None
        info["power_rails_w"] = runs[-1].power.rails_w if power else None
        if power is None:
            info["warnings"].append(f"{info['device']}: tegrastats printed no power rails during a run; "
                                    "the W column is empty")
    backend = f"edgecpm-runner (C++) on {d.transport.name}"
    report = BenchReport(fingerprint=info)
    for test, key, watts in ((f"pp{n_prompt}", "prefill_tok_s", None), (f"tg{n_gen}", "decode_tok_s", power)):
        report.rows.append(BenchRow(bundle.label, bundle.size_mib, cfg.num_parameters / 1e6, backend,
                                    runs[0].stats["threads"], test, [r.stats[key] for r in runs],
                                    device=d.transport.name, power_w=watts))
    if gguf is not None:
        peers = {"llama.cpp": llama_bench_rows(d, llama_bench, gguf, n_prompt, n_gen, reps, threads,
                                               cfg.num_parameters / 1e6, timeout)}
        report.rows += peers["llama.cpp"]
        report.notes += ratio_lines(report.rows[:2], peers)
    return report


def _peer_gguf(bundle: BundleInfo, compare: list[str], weights: Path | None, url: str) -> Path | None:
    """Our GGUF export of the bundle's checkpoint for llama-bench, made before anything is sent."""
    if not compare:
        return None
    if "et-8da4w" in compare:
        raise DeviceError(f"--compare et-8da4w on {url}: ExecuTorch's 8da4w peer runs in its Python runtime, on the "
                          f"host only; compare it there with `edgecpm bench {bundle.path} --compare et-8da4w`")
    return gguf_of(peer_sources(bundle.path, weights).checkpoint, progress=lambda m: print(m, file=sys.stderr))
