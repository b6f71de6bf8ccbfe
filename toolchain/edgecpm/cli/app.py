"""The ``edgecpm`` command line. Each command imports torch inside its body, so ``--help`` stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from edgecpm.cli import bench_sweep, device_commands, reproduce_command, write_commands
from edgecpm.cli.bounds import check_range
from edgecpm.cli.device_commands import check_timeout, device_option, timeout_option
from edgecpm.cli.common import (DTYPE_HELP, ModelArg, friendly_errors, load_model_and_tokenizer, parse_dtype,
                                progress_bar, read_text_file)
from edgecpm.cli.stream import reply_printer, streamed_line
from edgecpm.cli.spec import (ChainLenOption, FrspecOption, NumIterOption, SpecOption, TopkOption, TreeOption,
                              TreeSizeOption)

app = typer.Typer(
    name="edgecpm",
    help="MiniCPM4 on the edge: generate, evaluate, quantize (ternary / int4), export (ExecuTorch / GGUF).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from edgecpm import __version__

        typer.echo(f"edgecpm {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print edgecpm's version and exit"),
    verbose: bool = typer.Option(False, "-v", "--verbose",
                                 help="Show third-party warnings and runtime logs (hidden by default)"),
):
    """MiniCPM4 on the edge: generate, evaluate, quantize (ternary / int4), export (ExecuTorch / GGUF)."""
    from edgecpm.quiet import configure

    configure(verbose)


MAX_REPS = 100  # a mean ± sd settles long before; more is a typo that would run for hours


@app.command()
@friendly_errors
def generate(
    model: str = ModelArg,
    prompt: str = typer.Option(..., "-p", "--prompt", help="Prompt text (UTF-8)"),
    n: int = typer.Option(128, "-n", "--max-new-tokens", help="Tokens to generate, at least 1"),
    temperature: float = typer.Option(0.0, help="Sampling temperature, >= 0; 0 = greedy"),
    top_p: Optional[float] = typer.Option(None, "--top-p", help="Sampling: nucleus mass in (0, 1] (default 1 = off)"),
    top_k: Optional[int] = typer.Option(None, "--top-k", help="Sampling: keep the k likeliest tokens (default 0 "
                                                              "= off)"),
    seed: Optional[int] = typer.Option(None, help="Seed for sampling (reproducible runs), 0..2^63-1"),
    chat: bool = typer.Option(False, help="Wrap the prompt in the ChatML template and print only the reply"),
    max_seq_len: Optional[int] = typer.Option(None, "--max-seq-len", help="Checkpoints: KV cache length "
                                                                          "(default: min(4096, the model's))"),
    dtype: Optional[str] = typer.Option(None, help=DTYPE_HELP + "; checkpoints only"),
    stats: bool = typer.Option(False, help="Print prefill/decode speed after the text"),
    spec: Optional[str] = SpecOption,
    tree: Optional[bool] = TreeOption,
    frspec: Optional[Path] = FrspecOption,
    num_iter: Optional[int] = NumIterOption,
    topk_per_iter: Optional[int] = TopkOption,
    tree_size: Optional[int] = TreeSizeOption,
    chain_len: Optional[int] = ChainLenOption,
    device: str = device_option(),
    timeout: Optional[float] = timeout_option(),
):
    """Generate text with the KV cache (eager PyTorch, or an exported .pte, here or on a device),
    streaming as it goes."""
    from edgecpm.checkpoint.locate import resolve_model
    from edgecpm.cli.bounds import refuse_unless
    from edgecpm.cli.common import is_program_dir, utf8_argument
    from edgecpm.cli.fit import check_fits
    from edgecpm.cli.sampling_options import sampling_config
    from edgecpm.cli.spec import spec_config
    from edgecpm.generate import TextStream, generate as run
    from edgecpm.runtime.devices import open_device

    utf8_argument("-p/--prompt", prompt)
    check_range("-n/--max-new-tokens", n, 1)
    seconds = check_timeout(device, timeout)
    if device != "host":
        from edgecpm.cli.device_commands import generate_remote, refuse_host_only

        open_device(device)   # a malformed URL is named before anything loads
        refuse_host_only(device, {"--temperature": temperature or None, "--top-p": top_p, "--top-k": top_k,
                                  "--seed": seed, "--max-seq-len": max_seq_len, "--dtype": dtype, "--spec": spec,
                                  "--tree/--chain": tree, "--frspec": frspec, "--num-iter": num_iter,
                                  "--topk-per-iter": topk_per_iter, "--tree-size": tree_size,
                                  "--chain-len": chain_len})
        generate_remote(device, model, prompt, n, chat, stats, seconds)
        return
    sampling = sampling_config(temperature, top_p, top_k, seed)
    speculative = spec_config(spec, tree, num_iter, topk_per_iter, tree_size, chain_len, frspec)
    if is_program_dir(resolve_model(model)):
        refuse_unless(False, {"--max-seq-len": max_seq_len},
                      f"{model} is an exported program, whose KV cache was fixed at export; drop it, or "
                      "re-export with `edgecpm export --max-seq-len N`")
    _, m, tok = load_model_and_tokenizer(model, max_seq_len, dtype)
    check_range("--top-k", top_k, 0, m.config.vocab_size, f" (the vocabulary has {m.config.vocab_size} tokens)")
    ids = tok.chat([{"role": "user", "content": prompt}]) if chat else tok.encode(prompt, bos=True)
    headroom = 0 if speculative is None else max(speculative.max_nodes, speculative.max_draft_slots + 1)
    check_fits(m, len(ids), n, headroom)
    # Chat prints the reply alone (the prompt is ChatML around the user's text); plain mode
    # continues the prompt, so the prompt is echoed in front of the continuation.
    echo = "" if chat else prompt
    if speculative is not None:
        from edgecpm.cli.spec import generate_speculative

        generate_speculative(m, tok, ids, n, sampling, spec, speculative, frspec, stats, echo)
        return
    stream = TextStream(tok)
    with streamed_line(echo):
        res = run(m, ids, n, sampling, eos_ids=tok.eos_ids, on_token=reply_printer(stream, tok.eos_ids if chat else ()))
    if stats:
        typer.echo(f"[prompt {len(ids)} tok, prefill {res.prefill_tok_s:.1f} tok/s; "
                   f"generated {len(res.tokens)} tok, decode {res.decode_tok_s:.1f} tok/s]", err=True)


@app.command("eval")
@friendly_errors
def eval_(
    models: list[str] = typer.Argument(..., help="Models to score; the first is the reference for "
                                                  "ΔPPL, KL divergence and top-1 agreement"),
    corpus: Optional[Path] = typer.Option(
        None, help="UTF-8 text file (default: the held-out split of the embedded model's corpus)"),
    ctx: Optional[int] = typer.Option(None, help="Window length in tokens (default: 256, or the smallest "
                                                 "max_seq_len of the programs given)"),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", help="Score at most this many tokens"),
    dtype: Optional[str] = typer.Option(None, help=DTYPE_HELP + "; checkpoints only"),
):
    """Perplexity, and for several models: ΔPPL, KLD and top-1 agreement against the first."""
    import torch

    from edgecpm.checkpoint.locate import resolve_model
    from edgecpm.cli.common import is_program_dir
    from edgecpm.errors import TokenizerError
    from edgecpm.eval.compare import compare_quality, render_quality

    check_range("--max-tokens", max_tokens, 1)
    if corpus is None:
        from edgecpm.tiny.corpus import held_out_text

        text, source = held_out_text(), "held-out split of the CPython docstring corpus"
    else:
        text, source = read_text_file(corpus, "--corpus"), str(corpus)
    # Programs first: their caches are fixed, and without --ctx the window must fit them all.
    programs = [name for name in models if is_program_dir(resolve_model(name))]
    found = {name: load_model_and_tokenizer(name, ctx, dtype, seq_option="--ctx")[1:] for name in programs}
    if ctx is None:
        ctx = min([256] + [m.max_seq_len for m, _ in found.values()])
    loaded = {}
    tok = None
    for name in models:
        m, t = found[name] if name in found else load_model_and_tokenizer(name, ctx, dtype, seq_option="--ctx")[1:]
        if tok is None:
            tok = t
        elif t.vocab_size != tok.vocab_size:
            raise TokenizerError(f"{name}: vocabulary {t.vocab_size} differs from {models[0]}'s {tok.vocab_size}; "
                                 "compared models must share a tokenizer")
        loaded[name] = m
    ids = torch.tensor(tok.encode(text), dtype=torch.long)
    if max_tokens is not None:
        ids = ids[: max_tokens + 1]
    if ids.numel() < 2:
        raise typer.BadParameter(f"{source}: {ids.numel()} token(s); scoring needs at least 2")
    with progress_bar(ids.numel(), "scoring", "tok") as bar:
        rows = compare_quality(loaded, ids, ctx, progress=bar.update)
    typer.echo(f"corpus: {source}, {ids.numel() - 1} tokens, ctx {ctx}\n")
    typer.echo(render_quality(rows))


@app.command()
@friendly_errors
def bench(
    model: str = ModelArg,
    device: str = typer.Option("host", help="host (eager, or .pte via the ExecuTorch runtime and the native "
                                            "runner), cuda (the checkpoint on the GPU with the Triton kernels), "
                                            "ssh://user@host:port/folder (user, port, folder optional) or "
                                            "adb://SERIAL (an exported bundle, run there by the native runner)"),
    timeout: Optional[float] = timeout_option(),
    n_prompt: int = typer.Option(64, "--n-prompt", help="Prompt tokens (the pp test), at least 1"),
    n_gen: int = typer.Option(32, "-n", "--n-gen", help="Generated tokens (the tg test), at least 1"),
    reps: int = typer.Option(3, "-r", "--repetitions", help=f"Runs per test after one warm-up, 1..{MAX_REPS}"),
    depth: str = typer.Option("0", "-d", "--depth", help="Comma-separated context depths, e.g. 0,8192: each test "
                                                         "again after that many random tokens (named tg32 @ d8192). "
                                                         "Python backends also time the prompt after the context "
                                                         "(pp64 @ d8192); the native runner gives only the decode "
                                                         "row at a depth (it times its whole prefill as one)"),
    fmt: str = typer.Option("md", "--format", help="md, csv, json or jsonl (one row per line); all but md keep "
                                                   "the raw samples"),
    out: Optional[str] = typer.Option(None, "-o", "--out", help="Write the report to this file (default: "
                                                                "print it)"),
    force: bool = typer.Option(False, help="Replace OUT if it exists"),
    threads: Optional[str] = typer.Option(None, "--threads", help=bench_sweep.THREADS_HELP),
    plot: Optional[Path] = typer.Option(None, "--plot", help=bench_sweep.PLOT_HELP),
    seed: Optional[int] = typer.Option(None, help="Seed of the random prompt ids (default 0; not with --spec, "
                                                  "whose prompt is held-out text)"),
    dtype: Optional[str] = typer.Option(None, help=DTYPE_HELP + "; checkpoints only"),
    spec: Optional[str] = SpecOption,
    tree: Optional[bool] = TreeOption,
    frspec: Optional[Path] = FrspecOption,
    num_iter: Optional[int] = NumIterOption,
    topk_per_iter: Optional[int] = TopkOption,
    tree_size: Optional[int] = TreeSizeOption,
    chain_len: Optional[int] = ChainLenOption,
    compare: Optional[str] = typer.Option(None, "--compare", help="Peers run on the same weights beside a bundle: "
                                                                  "llama.cpp (our GGUF export), et-8da4w (ExecuTorch's "
                                                                  "export_llm), comma-separated"),
    weights: Optional[Path] = typer.Option(None, "--weights", help="--compare: the checkpoint the bundle was exported "
                                                                   "from (default: the one its manifest names)"),
    old_prompt_count: Optional[str] = typer.Option(None, "-p", hidden=True,
                                                   help="Refused with a pointer to --n-prompt (older usage)"),
):
    """Prefill / decode speed of a checkpoint or an exported .pte, llama-bench style (with --spec:
    speculative decoding beside plain, on held-out text)."""
    from edgecpm.bench_records import FORMATS
    from edgecpm.cli.bounds import check_threads, refuse_unless
    from edgecpm.cli.output_file import check_output_file, write_text
    from edgecpm.cli.spec import spec_config
    from edgecpm.peers.compare import parse_peers
    from edgecpm.runtime.devices import is_remote

    if old_prompt_count is not None:
        raise typer.BadParameter(f"-p {old_prompt_count}: bench's prompt length is --n-prompt N (-p is prompt text, "
                                 "as in generate)")
    if fmt not in FORMATS:
        raise typer.BadParameter(f"--format {fmt}: choose md, csv, json or jsonl")
    if out in FORMATS:  # the older meaning of -o; as typed, so -o ./json is a file
        raise typer.BadParameter(f"-o {out}: -o is the file to write; for the format pass --format {out} "
                                 f"(to write a file named {out}, pass -o ./{out})")
    out = None if out is None else Path(out)
    check_range("--n-prompt", n_prompt, 1)
    check_range("-n/--n-gen", n_gen, 1)
    check_range("-r/--repetitions", reps, 1, MAX_REPS)
    depths = parse_depths(depth)
    seconds = check_timeout(device, timeout)
    thread_counts = bench_sweep.parse_threads(threads)
    if is_remote(device):
        from edgecpm.cli.device_commands import bench_remote, refuse_host_only
        from edgecpm.runtime.devices import open_device

        open_device(device)   # a malformed URL is named before anything loads
        for count in thread_counts:
            check_range("--threads", count, 1, 256, " (the runner's limit)")
        refuse_host_only(device, {"--dtype": dtype, "--spec": spec, "--tree/--chain": tree, "--frspec": frspec,
                                  "--num-iter": num_iter, "--topk-per-iter": topk_per_iter, "--tree-size": tree_size,
                                  "--chain-len": chain_len})
    else:
        for count in thread_counts:
            check_threads("--threads", count)
    check_range("--seed", seed, 0, 2**63 - 1)
    refuse_unless(spec is None, {"--seed": seed}, "only for the random prompt; with --spec the prompt is "
                                                  "held-out text")
    refuse_unless(out is not None or plot is not None, {"--force": force}, "only with -o FILE or --plot FILE")
    refuse_unless(compare is not None, {"--weights": weights}, "only with --compare")
    peers = [] if compare is None else parse_peers(compare)
    speculative = spec_config(spec, tree, num_iter, topk_per_iter, tree_size, chain_len, frspec)
    if out is not None:
        check_output_file(out, force, f"bench.{fmt}")  # before minutes of benchmarking
    bench_sweep.check_plot(plot, force)
    if is_remote(device):
        report = bench_sweep.run_each(thread_counts, lambda t: bench_remote(device, model, n_prompt, n_gen, reps,
                                                                            seed or 0, t, seconds, depths, peers,
                                                                            weights))
    else:
        report = bench_sweep.run_each(thread_counts, lambda t: _bench_here(model, device, n_prompt, n_gen, reps, seed,
                                                                           t, dtype, spec, speculative, frspec, depths,
                                                                           peers, weights))
    text = report.render(fmt)
    if report.fingerprint is not None and (out is not None or fmt != "md"):   # md on screen shows them already
        for warning in report.fingerprint["warnings"]:
            typer.echo(f"warning: {warning}", err=True)
    if out is None:
        typer.echo(text)
    else:
        write_text(out, text)
        typer.echo(f"wrote {out} ({fmt}, {len(report.rows)} rows)")
    if plot is not None:
        from edgecpm.bench_plot import write_plot

        write_plot(report.rows, plot, report.title)
        typer.echo(f"wrote {plot} (plot of {len(report.rows)} rows)")


def parse_depths(text: str) -> tuple[int, ...]:
    """``--depth 0,8192``: whole numbers of context tokens, 0 and up."""
    try:
        depths = tuple(int(part) for part in text.split(","))
    except ValueError:
        depths = ()
    if not depths or min(depths) < 0:
        raise typer.BadParameter(f"--depth {text}: expected comma-separated whole numbers of tokens, 0 and up "
                                 "(e.g. 0,8192)")
    return depths


def _bench_here(model, device, n_prompt, n_gen, reps, seed, threads, dtype, spec, speculative, frspec, depths, peers,
                weights):
    """``bench`` on this machine (host or cuda): checks that need the model, then the run."""
    from edgecpm.bench import run_bench
    from edgecpm.checkpoint.contents import load_config
    from edgecpm.checkpoint.locate import resolve_model
    from edgecpm.cli.bounds import refuse_unless
    from edgecpm.cli.common import is_program_dir
    from edgecpm.cli.seq_len import check_seq_len

    path = resolve_model(model)
    if is_program_dir(path):
        refuse_unless(False, {"--dtype": dtype}, f"{model} is an exported program, whose dtype was fixed at export")
    else:
        # The cache holds the prompt, the generated tokens and a verify step's draft slots.
        headroom = 0 if speculative is None else max(speculative.max_nodes, speculative.max_draft_slots + 1)
        need = max(depths) + n_prompt + n_gen + 2 + headroom
        at_depth = f"--depth {max(depths)} " if max(depths) else ""
        check_seq_len("-n", need, load_config(path), dtype,
                      label=f"{at_depth}--n-prompt {n_prompt} -n {n_gen} (a cache of {need} positions)")
    return run_bench(model, device, n_prompt, n_gen, reps, parse_dtype(dtype), seed=seed or 0, spec_arg=spec,
                     spec=speculative, frspec=frspec, threads=threads, depths=depths, compare=peers, weights=weights)


@app.command()
@friendly_errors
def demo(
    n: int = typer.Option(48, "-n", help="Tokens to generate per prompt, 1..100"),
):
    """The pipeline on the embedded tiny model: load → generate → evaluate, with a speed table."""
    from edgecpm.demo import run_demo

    # The demo's programs are exported with 128 positions, which hold a prompt and 100 more.
    check_range("-n", n, 1, 100)
    run_demo(n)


@app.command()
@friendly_errors
def doctor(
    device: list[str] = typer.Option([], "--device", help="Also check this device (repeatable): ssh://... or "
                                                          "adb://SERIAL; EDGECPM_DEVICES=URL,URL names more, and "
                                                          "every serial `adb devices` lists is checked"),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="Seconds each device may take to answer "
                                                                    "(default 10)"),
):
    """Versions and what is available on this machine, then the devices it can reach and what
    each lacks."""
    from edgecpm.doctor import report

    from edgecpm.runtime.devices import is_remote

    for url in device:
        if not is_remote(url):
            raise typer.BadParameter(f"--device {url}: doctor checks remote devices: ssh://[user@]host[:port][/folder] "
                                     "or adb://SERIAL (this machine is the table it always prints)")
    check_range("--timeout", timeout, 1, 600)
    typer.echo(report(device, timeout))


# The commands that write artifacts live in write_commands.py; registered here, in a help panel
# of their own.
MAKE = "Make artifacts"
app.command(rich_help_panel=MAKE)(friendly_errors(write_commands.init))
app.command(rich_help_panel=MAKE, epilog=write_commands.quant_types_help())(friendly_errors(write_commands.quantize))
app.command(rich_help_panel=MAKE)(friendly_errors(write_commands.export))
app.command(rich_help_panel=MAKE)(friendly_errors(write_commands.frspec))
app.command("train-draft", rich_help_panel=MAKE)(friendly_errors(write_commands.train_draft))
app.command()(friendly_errors(device_commands.deploy))
app.command("bench-plot")(friendly_errors(bench_sweep.bench_plot))
app.command()(friendly_errors(reproduce_command.reproduce))


def main():
    app()


if __name__ == "__main__":
    main()
