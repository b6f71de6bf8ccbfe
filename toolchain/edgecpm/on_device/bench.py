"""``edgecpm bench BUNDLE --device URL``: llama-bench rows measured by the runner on the device.

The report carries the device's fingerprint (``runtime.device_info``). On a Jetson each run is
sampled by tegrastats (every 100 ms) and the decode row gets the run's mean power (W) and
tokens per joule (decode rate / that power; a run is mostly decode, and tegrastats cannot tell
prefill's 100-ms slice apart, so the prefill row has none); the warnings say when the clocks are
not locked. On a phone the thermal status is read before and after the runs, and any status above
0 (Android's THERMAL_STATUS_NONE: LIGHT and up throttle) flags the numbers as throttled.

``depths`` run the tests after that many context tokens (``edgecpm.bench_depth``; the runner
prefills its whole prompt in one timed call, so a depth gives only its decode row). Rows carry
the runner's peak resident memory, and decode rows their weight GB/s as a percentage of the
device's copy bandwidth, measured once by the ``edgecpm_copy_bandwidth`` deployed beside the runner.
"""

from __future__ import annotations

import sys
from pathlib import Path

from edgecpm.bench_depth import (check_depths_fit, context_ids, copy_bandwidth_line, depth_test_name,
                                 parse_copy_bandwidth, prompt_ids)
from edgecpm.bench_records import BenchReport, BenchRow
from edgecpm.errors import DeviceError
from edgecpm.on_device.bundle_info import BundleInfo
from edgecpm.on_device.llama_bench import find_llama_bench, llama_bench_rows
from edgecpm.peers.compare import peer_sources, ratio_lines
from edgecpm.peers.llamacpp import gguf_of
from edgecpm.runtime.deploy import Deployment, deploy
from edgecpm.runtime.device_info import read_thermal_status
from edgecpm.runtime.device_runtime import copy_bandwidth_command
from edgecpm.runtime.device_runner import run_runner
from edgecpm.runtime.devices import open_device


def device_copy_bandwidth(d: Deployment, timeout: float) -> dict:
    """The device's copy bandwidth, from the program deployed beside the runner."""
    done = d.transport.run(copy_bandwidth_command(d.runtime_dir, d.info.get("runner_prefix", "")), timeout=timeout,
                           env=d.env)
    if done.returncode != 0:
        raise DeviceError(f"{d.transport.name}: edgecpm_copy_bandwidth failed (exit {done.returncode}): "
                          f"{done.stderr.strip()[-300:]}")
    return parse_copy_bandwidth(done.stdout, d.transport.name)


def bench_on_device(url: str, bundle: BundleInfo, n_prompt: int, n_gen: int, reps: int, seed: int,
                    threads: int | None, timeout: float, depths: tuple[int, ...] = (0,), compare: list[str] = (),
                    weights: Path | None = None) -> BenchReport:
    """``compare``: ``llama.cpp`` adds llama-bench's rows from the device (``llama_bench``), at depth 0."""
    depths = sorted(set(depths))
    check_depths_fit(depths, n_prompt, n_gen, bundle.max_seq_len, f"{bundle.path}'s KV cache (fixed at export)",
                     "ask for fewer tokens or re-export with --max-seq-len")
    gguf = _peer_gguf(bundle, compare, weights, url)
    cfg = bundle.config
    prompt = prompt_ids(cfg.vocab_size, n_prompt, seed)

    def args(n: int, depth: int = 0) -> list[str]:
        ids = context_ids(cfg.vocab_size, depth, seed) + prompt
        return ["--prompt-ids", ",".join(map(str, ids)), "-n", str(n), "--stats-only",
                *([] if threads is None else ["-t", str(threads)])]

    d = deploy(open_device(url), bundle.path, timeout)
    llama_bench = find_llama_bench(d, timeout) if gguf is not None else None
    info = {**d.info, "warnings": list(d.info["warnings"])}
    sample_power = bool((info.get("jetson") or {}).get("tegrastats"))
    android = "android" in info
    if android:
        info["thermal_before"] = read_thermal_status(d.transport)
    run_runner(d, args(min(2, n_gen)), timeout=timeout)   # warm-up
    runs = {depth: [run_runner(d, args(n_gen, depth), sample_power=sample_power, timeout=timeout)
                    for _ in range(reps)] for depth in depths}
    copy = device_copy_bandwidth(d, timeout)
    if android:
        info["thermal_after"] = read_thermal_status(d.transport)
        info["throttling"] = max(s or 0 for s in (info["thermal_before"], info["thermal_after"])) > 0
    every_run = [r for at_depth in runs.values() for r in at_depth]
    has_power = sample_power and all(r.power for r in every_run)
    if info.get("throttling"):
        info["warnings"].append(f"{info['device']}: thermal status {info['thermal_before']} -> "
                                f"{info['thermal_after']}: the phone throttled, so these rates are below its best")
    if sample_power:
        info["power_method"] = every_run[0].power.method if has_power else None
        info["power_rails_w"] = every_run[-1].power.rails_w if has_power else None
        if not has_power:
            info["warnings"].append(f"{info['device']}: tegrastats printed no power rails during a run; "
                                    "the W column is empty")
    backend = f"edgecpm-runner (C++) on {d.transport.name}"
    report = BenchReport(fingerprint=info, summary={"copy_bandwidth": copy}, notes=[copy_bandwidth_line(copy)])
    peak_rss = max(r.stats["peak_rss_mb"] for r in every_run)
    for depth, at_depth in runs.items():
        power = [r.power.watts for r in at_depth] if has_power else None
        tests = [] if depth else [(f"pp{n_prompt}", "prefill_tok_s", None)]
        tests.append((depth_test_name(f"tg{n_gen}", depth), "decode_tok_s", power))
        for test, key, watts in tests:
            report.rows.append(BenchRow(bundle.label, bundle.size_mib, cfg.num_parameters / 1e6, backend,
                                        every_run[0].stats["threads"], test, [r.stats[key] for r in at_depth],
                                        device=d.transport.name, power_w=watts, peak_rss_mib=peak_rss,
                                        copy_gb_s=copy["copy_gb_s"]))
    if gguf is not None:
        ours = list(report.rows)
        peers = {"llama.cpp": llama_bench_rows(d, llama_bench, gguf, n_prompt, n_gen, reps, threads,
                                               cfg.num_parameters / 1e6, timeout)}
        report.rows += peers["llama.cpp"]
        report.notes += ratio_lines(ours, peers)
    return report


def _peer_gguf(bundle: BundleInfo, compare: list[str], weights: Path | None, url: str) -> Path | None:
    """Our GGUF export of the bundle's checkpoint for llama-bench, made before anything is sent."""
    if not compare:
        return None
    if "et-8da4w" in compare:
        raise DeviceError(f"--compare et-8da4w on {url}: ExecuTorch's 8da4w peer runs in its Python runtime, on the "
                          f"host only; compare it there with `edgecpm bench {bundle.path} --compare et-8da4w`")
    return gguf_of(peer_sources(bundle.path, weights).checkpoint, progress=lambda m: print(m, file=sys.stderr))
