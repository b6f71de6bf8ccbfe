"""``edgecpm bench``: llama-bench-style speed of one artifact on one device.

Devices:
- ``host``: a checkpoint runs in eager PyTorch; an exported ``.pte`` directory runs through the
  ExecuTorch Python runtime *and* the native ``edgecpm-runner`` (its JSON stats line), side by side.
- ``cuda``: the GPU reference path (ARCHITECTURE.md principle 4): the checkpoint on the GPU with the
  quantized linears and InfLLM-v2 attention dispatched to the Triton kernels (beside their ops), plus
  its agreement with the eager CPU model (top-1 match, max logit difference) on the prompt.
- ``ssh://`` and ``adb://``: an exported bundle deployed to the device and run there by the native
  runner (``edgecpm.on_device.bench``), with the device's fingerprint in the report and, on a
  Jetson, the power tegrastats saw during each run on its rows (W, tokens per joule).

Rows (``edgecpm.bench_records``) use llama-bench's columns; ``t/s`` is mean ± sd over ``reps`` runs
after one warm-up (the native runner's: no warm-up, each run is its own process), then the median,
and ``GB/s`` on decode rows is the stored weight bytes streamed per second (the roofline measure).

``--spec DRAFT`` (or ``program`` for a ``.pte`` exported with ``--draft``) adds a speculative
decode row per backend and a summary: mean tokens per verify step, the draft's share of decode
time, speedup over the plain decode row of the same backend, and whether the greedy tokens equal
plain decoding's. The prompt is then held-out text (the embedded corpus's held-out split, through
the model's tokenizer), not random ids, on which every draft is wrong.

``depths`` (``--depth 0,8192``) repeats the tests after that many tokens of context
(``edgecpm.bench_depth``). On the host's CPU the report records the copy bandwidth measured by
``edgecpm_copy_bandwidth`` and each decode row its weight GB/s as a percentage of it; the runner's
rows carry its peak resident memory. The Python backends' rows leave peak RSS empty: this
process's high-water mark includes torch and every model loaded before, and cannot be reset
between backends, so it would not be the backend's own.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import torch

from edgecpm.bench_depth import (context_ids, copy_bandwidth_line, depth_test_name, host_copy_bandwidth,
                                 prompt_ids, samples_at_depth)
from edgecpm.bench_records import BenchReport, BenchRow, cpu_name
from edgecpm.bench_timing import mean, repeat_calls
from edgecpm.errors import EdgecpmError
from edgecpm.quiet import native_stderr_filtered
from edgecpm.runtime.device_runtime import COPY_BANDWIDTH
from edgecpm.runtime.transport import LocalTransport, Transport

DEVICES = ("host", "cuda")


def check_device(device: str) -> str:
    if device in DEVICES:
        return device
    if device.startswith(("ssh://", "adb://")):
        raise EdgecpmError(f"--device {device}: a remote device runs an exported bundle through "
                           "edgecpm.on_device.bench (the CLI's `edgecpm bench BUNDLE --device URL`)")
    raise EdgecpmError(f"--device {device}: choose one of {', '.join(DEVICES)}")


def generate_samples(model, prompt: list[int], n_gen: int, reps: int) -> list[tuple[str, list[float]]]:
    """Prefill and decode tok/s of ``edgecpm.generate`` over ``reps`` runs after a warm-up."""
    from edgecpm.generate import generate

    runs = repeat_calls(lambda: generate(model, prompt, n_gen), reps)
    return [(f"pp{len(prompt)}", [r.prefill_tok_s for r in runs]), (f"tg{n_gen}", [r.decode_tok_s for r in runs])]


def spec_samples(base, draft, prompt: list[int], n_gen: int, reps: int, spec) -> tuple[list[float], dict]:
    """Speculative decode tok/s over ``reps`` runs after a warm-up, and the runs' statistics."""
    from edgecpm.speculative.decode import speculative_generate

    runs = repeat_calls(lambda: speculative_generate(base, draft, prompt, n_gen, spec=spec), reps)
    emitted, steps = sum(sum(r.accepted_per_step) for r in runs), sum(r.verify_steps for r in runs)
    draft_s, verify_s = sum(r.draft_s for r in runs), sum(r.verify_s for r in runs)
    return [r.decode_tok_s for r in runs], {"mean_accepted": emitted / steps,
                                            "draft_share": draft_s / (draft_s + verify_s), "tokens": runs[-1].tokens}


def _plain_tokens(model, prompt: list[int], n_gen: int) -> list[int]:
    from edgecpm.generate import generate

    return generate(model, prompt, n_gen).tokens


def text_prompt(model_dir: Path, cfg, n_prompt: int) -> list[int]:
    """``n_prompt`` tokens of held-out text: what a draft head can predict, unlike random ids."""
    from edgecpm.speculative.train import held_out_prompts
    from edgecpm.tiny.corpus import held_out_text
    from edgecpm.tokenizer.tokenizer import load_tokenizer

    tok = load_tokenizer(model_dir, cfg.bos_token_id, cfg.eos_token_id)
    return held_out_prompts(tok.encode(held_out_text()[:200_000]), 1, n_prompt - 1, cfg.bos_token_id)[0]


def runner_spec_flags(spec) -> list[str]:
    """``edgecpm-runner`` flags for a ``SpecConfig`` (the runner's greedy ``--spec`` loop)."""
    if spec.mode == "chain":
        return ["--spec", "chain", "--chain-len", str(spec.chain_len)]
    return ["--spec", "tree", "--tree", f"{spec.num_iter}/{spec.topk_per_iter}/{spec.tree_size}"]


def runner_stats(runner: Path, bundle: Path, prompt: list[int], n_gen: int, flags: list[str] = (),
                 threads: int | None = None, transport: Transport | None = None) -> dict:
    """One run of the native runner: its JSON stats line (``threads``: its ``-t``; None, its
    default of one per core). ``transport``: where it runs (default: this machine)."""
    from edgecpm.export.pte import PROGRAM, VOCAB_BIN

    transport = transport or LocalTransport()
    thread_flags = [] if threads is None else ["-t", str(threads)]
    out = transport.run([transport.push(runner), "--model", transport.push(bundle / PROGRAM),
                         "--vocab", transport.push(bundle / VOCAB_BIN), "--prompt-ids", ",".join(map(str, prompt)),
                         "-n", str(n_gen), "--stats-only", *thread_flags, *flags])
    if out.returncode != 0:
        raise EdgecpmError(f"{runner} failed on {bundle} (exit {out.returncode}): {out.stderr.strip()[-500:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def runner_samples(runner: Path, bundle: Path, prompt: list[int], n_gen: int, reps: int,
                   threads: int | None = None) -> list[tuple[str, list[float]]]:
    """The native runner's own prefill / decode rates, from its JSON stats line."""
    return _runner_rows(_runner_runs(runner, bundle, prompt, n_gen, reps, threads=threads), len(prompt), n_gen)


def _runner_runs(runner: Path, bundle: Path, prompt: list[int], n_gen: int, reps: int, flags: list[str] = (),
                 threads: int | None = None) -> list[dict]:
    # No warm-up run: every run is a fresh process that loads the program itself (its prefill
    # includes the first touch of the mmapped weights), so a discarded one would warm nothing in it.
    return repeat_calls(lambda: runner_stats(runner, bundle, prompt, n_gen, flags, threads), reps, warmup=0)


def _runner_rows(runs: list[dict], n_prompt: int, n_gen: int, depth: int = 0) -> list[tuple[str, list[float]]]:
    """The runner's rows from its runs; at a depth only decode (its prefill call times the context too)."""
    tg = (depth_test_name(f"tg{n_gen}", depth), [s["decode_tok_s"] for s in runs])
    return [tg] if depth else [(f"pp{n_prompt}", [s["prefill_tok_s"] for s in runs]), tg]


def runner_spec_samples(runner: Path, bundle: Path, prompt: list[int], n_gen: int, reps: int, spec,
                        threads: int | None = None) -> tuple[list[float], dict]:
    """``spec_samples`` for the native runner's ``--spec`` loop."""
    runs = _runner_runs(runner, bundle, prompt, n_gen, reps, runner_spec_flags(spec), threads)
    draft_s, verify_s = sum(s["draft_s"] for s in runs), sum(s["verify_s"] for s in runs)
    steps = sum(s["verify_steps"] for s in runs)
    return [s["decode_tok_s"] for s in runs], {
        "mean_accepted": sum(s["mean_accepted"] * s["verify_steps"] for s in runs) / steps,
        "draft_share": draft_s / (draft_s + verify_s), "tokens": runs[-1]["tokens"]}


def _agreement(reference, candidate, prompt: list[int]) -> dict:
    reference.reset_caches()
    candidate.reset_caches()
    tokens, pos = torch.tensor([prompt]), torch.arange(len(prompt))
    ref, got = reference(tokens, pos)[0].float(), candidate(tokens, pos)[0].float()
    return {"top1_match": float((ref.argmax(-1) == got.argmax(-1)).float().mean()),
            "max_abs_logit_diff": float((ref - got).abs().max())}


def _speculative(model, runner: Path | None, bundle: Path, runs: list, prompt: list[int], n_gen: int, reps: int,
                 spec_arg: str, spec, frspec: Path | None, threads: int | None = None) -> list[dict]:
    """Append a ``tg{n} spec`` sample set to each backend of ``runs`` (the Python one, and the
    native runner's for a program) and return their summaries."""
    from edgecpm.speculative.loading import load_spec, spec_label

    base, draft = load_spec(model, spec_arg, frspec)
    label = spec_label(spec, draft)
    # Each backend's speculative tokens against its own plain ones (the runner stops on EOS).
    plain_tokens = [_plain_tokens(model, prompt, n_gen)]
    measured = [spec_samples(base, draft, prompt, n_gen, reps, spec)]
    if runner is not None:
        plain_tokens.append(runner_stats(runner, bundle, prompt, n_gen, threads=threads)["tokens"])
        measured.append(runner_spec_samples(runner, bundle, prompt, n_gen, reps, spec, threads))
    summaries = []
    for (backend, _, samples), (tg, summary), plain in zip(runs, measured, plain_tokens):
        plain_tg = mean(samples[-1][1])
        samples.append((f"tg{n_gen} spec", tg))
        summaries.append({"backend": backend, "label": label, "mean_accepted": summary["mean_accepted"],
                          "draft_share": summary["draft_share"], "speedup": mean(tg) / plain_tg,
                          "identical": summary["tokens"] == plain})
    return summaries


@contextlib.contextmanager
def thread_count(threads: int | None, executorch: bool = False):
    """torch's intra-op pool (and, for a program, ExecuTorch's threadpool, which XNNPACK and the
    edgecpm kernels share) at ``threads`` inside the block, restored after; None leaves them."""
    if threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    pool = None
    if executorch:
        from executorch.extension.pybindings import portable_lib as pool

        et_before = pool._threadpool_get_thread_count()
        with native_stderr_filtered():  # ExecuTorch logs "Resetting threadpool" at Info level
            pool._unsafe_reset_threadpool(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
        if pool is not None:
            with native_stderr_filtered():
                pool._unsafe_reset_threadpool(et_before)


def executorch_threads() -> int:
    from executorch.extension.pybindings import portable_lib

    return portable_lib._threadpool_get_thread_count()


def run_bench(artifact: str, device: str = "host", n_prompt: int = 64, n_gen: int = 32, reps: int = 3,
              dtype: torch.dtype | None = None, seed: int = 0, spec_arg: str | None = None, spec=None,
              frspec: Path | None = None, threads: int | None = None, depths: tuple[int, ...] = (0,),
              compare: list[str] = (), weights: Path | None = None) -> BenchReport:
    """``spec_arg``/``spec``/``frspec``: a draft head (or 'program'), its ``SpecConfig`` and
    FR-Spec list for the speculative rows (host only). ``threads``: every backend's thread count
    (torch's; ExecuTorch's pool; the runner's ``-t``); None keeps each one's default.
    ``seed``: of the random prompt ids (not used with ``spec_arg``: that prompt is text).
    ``depths``: context lengths to run the tests after (0: none).
    ``compare``: peers (``edgecpm.peers``) run on the same weights for a bundle (at depth 0), ``weights``
    the checkpoint it came from when its manifest does not say."""
    from edgecpm.checkpoint.loader import load_model
    from edgecpm.checkpoint.locate import resolve_model
    from edgecpm.runtime.footprint import describe_scheme, weight_bytes

    device = check_device(device)
    path = resolve_model(artifact)
    is_program = (path / "manifest.json").is_file()
    if is_program and device == "cuda":
        raise EdgecpmError(f"{path}: an exported .pte runs on the CPU; bench the checkpoint it came from "
                           "with --device cuda")
    if spec_arg is not None and device != "host":
        raise EdgecpmError(f"--spec on --device {device}: speculative decoding is benchmarked on the host "
                           "(eager or .pte)")
    if spec_arg is not None:
        from edgecpm.speculative.tree import SpecConfig

        spec = spec or SpecConfig()
    depths = sorted(set(depths))
    if spec_arg is not None and depths != [0]:
        raise EdgecpmError(f"--depth {','.join(map(str, depths))} with --spec: speculative rows are measured at "
                           "depth 0 only; drop one of them")
    # Speculation needs cache slots for a step's draft nodes beyond the last token.
    max_seq_len = (max(depths) + n_prompt + n_gen + 2
                   + (max(spec.max_nodes, spec.max_draft_slots + 1) if spec_arg else 0))
    at_depth = f"--depth {max(depths)} " if max(depths) else ""
    peer_artifacts = _prepare_peers(path, is_program, device, compare, weights, max_seq_len)
    if is_program:
        from edgecpm.runtime.pte import PteModel

        model = PteModel(path)
        if model.max_seq_len < max_seq_len:
            raise EdgecpmError(f"{path}: exported with max_seq_len {model.max_seq_len}; {at_depth}--n-prompt {n_prompt} "
                               f"-n {n_gen} needs {max_seq_len}: lower them or re-export with --max-seq-len")
    else:
        model = load_model(path, dtype=dtype, max_seq_len=max_seq_len)
    cfg = model.config
    if spec_arg is None:
        prompt = prompt_ids(cfg.vocab_size, n_prompt, seed)
    else:
        prompt = text_prompt(path, cfg, n_prompt)
    name = f"{path.name} ({describe_scheme(model)})"
    _, size_mib = weight_bytes(model)

    contexts = {d: context_ids(cfg.vocab_size, d, seed) for d in depths}

    def python_samples(m) -> list[tuple[str, list[float]]]:
        return [s for d in depths for s in (generate_samples(m, prompt, n_gen, reps) if d == 0
                                            else samples_at_depth(m, contexts[d], prompt, n_gen, reps))]

    report = BenchReport()
    runs, runner, peak_rss = [], None, {}
    with thread_count(threads, executorch=is_program):
        if device == "cuda":
            from edgecpm.runtime.cuda import cuda_model

            gpu = cuda_model(path, max_seq_len, dtype)
            report.summary["agreement"] = _agreement(model, gpu, prompt)
            runs.append((f"cuda ({torch.cuda.get_device_name()}) + triton", torch.get_num_threads(),
                         python_samples(gpu)))
        elif is_program:
            from edgecpm.export.targets import load_target
            from edgecpm.runtime.kernel_library import kernel_isa

            isa = kernel_isa()
            runs.append((f"executorch (python) + {isa}", executorch_threads(), python_samples(model)))
            runner = load_target("host").kernel_dir / "edgecpm-runner"
            if not runner.is_file():
                raise EdgecpmError(f"{runner} is not built: run `make kernels` (the native runner's rows are part "
                                   "of a .pte bench)")
            samples, stats = [], []
            for d in depths:
                at_d = _runner_runs(runner, path, contexts[d] + prompt, n_gen, reps, threads=threads)
                samples += _runner_rows(at_d, n_prompt, n_gen, d)
                stats += at_d
            backend = f"edgecpm-runner (C++) + {isa}"
            peak_rss[backend] = max(s["peak_rss_mb"] for s in stats)
            runs.append((backend, stats[0]["threads"], samples))
        else:
            runs.append(("torch-eager", torch.get_num_threads(), python_samples(model)))
        if spec_arg is not None:
            report.summary["speculative"] = _speculative(model, runner, path, runs, prompt, n_gen, reps, spec_arg,
                                                         spec, frspec, threads)
    device_name = torch.cuda.get_device_name() if device == "cuda" else cpu_name()
    copy_gb_s = None
    if device == "host":   # the GPU's rows have no CPU copy bandwidth to be set against
        from edgecpm.export.targets import load_target

        kernel_dir = load_target("host").kernel_dir
        if is_program or (kernel_dir / COPY_BANDWIDTH).is_file():   # a bundle's bench needs `make kernels` anyway
            report.summary["copy_bandwidth"] = host_copy_bandwidth(kernel_dir)
            copy_gb_s = report.summary["copy_bandwidth"]["copy_gb_s"]
        else:   # eager PyTorch needs no C++ build; the report says what it lacks
            report.notes.append(f"% bw not measured: {kernel_dir / COPY_BANDWIDTH} is not built (`make kernels`)")
    for backend, n_threads, samples in runs:
        for test, values in samples:
            report.rows.append(BenchRow(name, size_mib, cfg.num_parameters / 1e6, backend, n_threads, test, values,
                                        device=device_name, peak_rss_mib=peak_rss.get(backend), copy_gb_s=copy_gb_s))
    if compare:
        from edgecpm.peers.compare import peer_rows, ratio_lines

        peers = peer_rows(peer_artifacts, cfg.num_parameters / 1e6, prompt, n_gen, reps, threads, device_name)
        for row in (r for rows in peers.values() for r in rows):
            row.copy_gb_s = copy_gb_s   # the same machine: their % bw reads against the same copy bandwidth
            report.rows.append(row)
        report.notes += ratio_lines([r for r in report.rows if r.backend.startswith("edgecpm-runner")], peers)
    report.notes += [speculative_line(sp) for sp in report.summary.get("speculative", [])]
    if "agreement" in report.summary:
        report.notes.append(agreement_line(report.summary["agreement"]))
    if "copy_bandwidth" in report.summary:
        report.notes.append(copy_bandwidth_line(report.summary["copy_bandwidth"]))
    return report


def _prepare_peers(path: Path, is_program: bool, device: str, compare: list[str], weights: Path | None,
                   max_context: int) -> dict[str, Path]:
    """``compare``'s peers checked and their artifacts made before any run."""
    if not compare:
        return {}
    from edgecpm.peers.compare import check_sources, missing_peers, peer_sources, prepare_peers

    if not is_program or device != "host":
        raise EdgecpmError(f"--compare: peers are compared with an exported bundle on the host (ours in the native "
                           f"runner); {path} on --device {device} is not one")
    missing = missing_peers(compare)
    if missing:
        raise EdgecpmError("--compare: " + "; ".join(missing))
    sources = peer_sources(path, weights)
    check_sources(compare, sources)
    return prepare_peers(compare, sources, max_context, progress=lambda m: print(m, file=sys.stderr, flush=True))


def speculative_line(sp: dict) -> str:
    return (f"speculative ({sp['label']}) on {sp['backend']}: {sp['mean_accepted']:.2f} tok per verify step, "
            f"draft {100 * sp['draft_share']:.0f} % of decode time, {sp['speedup']:.2f}x plain decode, greedy "
            f"tokens {'identical to' if sp['identical'] else 'DIFFERENT FROM'} plain")


def agreement_line(a: dict) -> str:
    return (f"agreement with eager CPU over the prompt: top-1 {100 * a['top1_match']:.1f} %, "
            f"max |Δlogit| {a['max_abs_logit_diff']:.3g}")
