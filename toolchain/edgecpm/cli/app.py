"""The ``edgecpm`` command line. Each command imports torch inside its body, so ``--help`` stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from edgecpm.cli.bounds import check_range
from edgecpm.cli.common import friendly_errors, load_model_and_tokenizer, parse_dtype, progress_bar, read_text_file
from edgecpm.cli.quant_options import quant_config
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


ModelArg = typer.Argument(..., help="A Hugging Face model directory (float or edgecpm-quantized), an "
                                        "exported .pte directory (generate, eval), or an embedded model: "
                                        "'tiny', 'tiny-ternary'")


DTYPE_HELP = "Compute dtype: fp32, bf16 or fp16 (default: the checkpoint's)"
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
):
    """Generate text with the KV cache (eager PyTorch, or an exported .pte), streaming as it goes."""
    from edgecpm.checkpoint.locate import resolve_model
    from edgecpm.cli.bounds import refuse_unless
    from edgecpm.cli.common import is_program_dir, utf8_argument
    from edgecpm.cli.fit import check_fits
    from edgecpm.cli.sampling_options import sampling_config
    from edgecpm.cli.spec import spec_config
    from edgecpm.generate import TextStream, generate as run

    utf8_argument("-p/--prompt", prompt)
    check_range("-n/--max-new-tokens", n, 1)
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
def init(
    out: Path = typer.Option(..., "-o", "--out", help="Directory to create"),
    preset: str = typer.Option(..., help="tiny, minicpm4-0.5b, minicpm4-8b, minicpm4.1-8b"),
    random: bool = typer.Option(False, "--random", help="Random weights (required: no download here)"),
    dtype: str = typer.Option("bf16", help="Weight dtype: bf16, fp16 or fp32"),
    layers: Optional[int] = typer.Option(None, help="Override the layer count, at least 1 (small speed models)"),
    seed: int = typer.Option(0, help="Seed of the random weights, 0..2^63-1"),
    tokenizer: Optional[Path] = typer.Option(None, "--tokenizer", help="Directory of the model's tokenizer files "
                                                                       "to copy in (default: the tiny preset's "
                                                                       "own; a MiniCPM4 preset needs the "
                                                                       "release's tokenizer.model etc.)"),
    force: bool = typer.Option(False, help="Replace OUT if it exists"),
):
    """Write a checkpoint at a preset's shape in the Hugging Face layout, with its tokenizer."""
    check_range("--layers", layers, 1, 1000)
    check_range("--seed", seed, 0, 2**63 - 1)
    if not random:
        raise typer.BadParameter("only --random is supported: edgecpm cannot download weights; "
                                 "pass --random for a random-weight checkpoint at the real shape")
    import torch

    from edgecpm.checkpoint.contents import expected_shapes
    from edgecpm.checkpoint.random_init import tokenizer_files, write_random_checkpoint
    from edgecpm.embedded import PRESET_TOKENIZERS
    from edgecpm.model.presets import preset as get_preset
    from edgecpm.tokenizer.tokenizer import HOW_TO_ADD

    cfg = get_preset(preset)
    source = tokenizer if tokenizer is not None else PRESET_TOKENIZERS.get(preset)
    extra = None if source is None else tokenizer_files(source, cfg.vocab_size)
    if layers is not None:
        cfg.num_hidden_layers = layers
    torch_dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}.get(dtype)
    if torch_dtype is None:
        raise typer.BadParameter(f"--dtype {dtype!r}: choose bf16, fp16 or fp32")
    with progress_bar(len(expected_shapes(cfg)), f"writing {preset}", "tensor") as bar:
        write_random_checkpoint(cfg, out, torch_dtype, seed, overwrite=force, extra_files=extra,
                                progress=lambda _: bar.update(1))
    size = sum(f.stat().st_size for f in out.iterdir()) / 2**20
    typer.echo(f"wrote {out}: {preset}, {cfg.num_parameters / 1e6:.1f}M parameters, {size:.1f} MiB")
    if extra is None:
        typer.echo(f"{out} has no tokenizer (the {preset} preset has none embedded); {HOW_TO_ADD}", err=True)


def _quant_types_help() -> str:
    from edgecpm.quant.formats import format_table  # torch-free: --help stays fast

    rows = "\n".join(f"  {name:<8} {bpw:>8}  {desc}" for name, bpw, desc in format_table())
    return f"Packed formats (bits/weight):\n\n{rows}"


@app.command(epilog=_quant_types_help())
@friendly_errors
def quantize(
    model: str = ModelArg,
    out: Path = typer.Option(..., "-o", "--out", help="Directory to create"),
    scheme: str = typer.Option(..., help="ternary (BitCPM) or int4"),
    group_size: Optional[int] = typer.Option(
        None, "--group-size", help="Scale groups along the input dim, exactly as stored. ternary: 256 (default: "
                                   "the TQ block, plain llama.cpp bytes), 128/64/32 (scales kept beside the "
                                   "bytes) or 0 = per-channel; an already-ternary (QAT) checkpoint keeps its "
                                   "own scales. int4: 32/64/128, default 128"),
    method: Optional[str] = typer.Option(None, help="int4: rtn (default) or gptq"),
    asym: bool = typer.Option(False, "--asym", help="int4: asymmetric (zero point) instead of symmetric"),
    layout: Optional[str] = typer.Option(None, help="ternary: tq2_0 (2.06 bpw, default) or tq1_0 (1.69 bpw)"),
    embeddings: str = typer.Option("fp", help="Embedding table and LM head: fp (kept), int8 or int4"),
    calib: Optional[Path] = typer.Option(None, help="int4 gptq: calibration text, UTF-8 (default: the "
                                                    "embedded corpus)"),
    calib_seqs: Optional[int] = typer.Option(None, "--calib-seqs", help="int4 gptq: calibration sequences "
                                                                        "(default 64)"),
    calib_len: Optional[int] = typer.Option(None, "--calib-len", help="int4 gptq: tokens per calibration "
                                                                      "sequence (default 256)"),
    skip_first: Optional[int] = typer.Option(None, "--skip-first", help="int4 gptq: drop the first N positions "
                                                                        "of each sequence from the Hessian "
                                                                        "(P-GPTQ uses 4; default 0)"),
    force: bool = typer.Option(False, help="Replace OUT if it exists"),
):
    """Quantize the decoder-block linears to packed ternary or int4 (streams tensor by tensor)."""
    from edgecpm.checkpoint.contents import expected_shapes, load_config
    from edgecpm.checkpoint.locate import resolve_model
    from edgecpm.checkpoint.quantized import quantize_checkpoint
    from edgecpm.quant.config import Int4Config

    config = quant_config(scheme, group_size, method, asym, layout, embeddings, calib, calib_seqs, calib_len,
                          skip_first)
    model_dir = resolve_model(model)
    cfg = load_config(model_dir)
    check_range("--calib-len", calib_len, 2, cfg.max_position_embeddings,
                f" (the model's max_position_embeddings is {cfg.max_position_embeddings})")
    if calib is not None:
        text = read_text_file(calib, "--calib")  # before any work: a typo fails at once
    prepared = None
    if isinstance(config, Int4Config) and config.method == "gptq":
        from edgecpm.checkpoint.gptq_calibration import gptq_model

        if calib is None:
            from edgecpm.tiny.corpus import split_text, stdlib_documents

            text = split_text(stdlib_documents())[0]
        with progress_bar(cfg.num_hidden_layers, "GPTQ", "layer") as bar:
            prepared = gptq_model(model_dir, config, text, progress=lambda _: bar.update(1))
    with progress_bar(len(expected_shapes(cfg)), "quantizing", "tensor") as bar:
        summary = quantize_checkpoint(model_dir, out, config, prepared=prepared, overwrite=force,
                                      progress=lambda _: bar.update(1))
    typer.echo(summary.table())
    typer.echo(f"wrote {out}")


@app.command()
@friendly_errors
def export(
    model: str = ModelArg,
    # str, not Path: Path drops the trailing "/" that says "a directory" for a file output
    out: str = typer.Option(..., "-o", "--out", help="Output: a .gguf / .onnx file, or a directory for pte"),
    fmt: str = typer.Option("pte", "--format", help="pte (ExecuTorch: float, ternary or int4), gguf (llama.cpp), "
                                                    "or onnx (float or int4; cache-free forward)"),
    target: str = typer.Option("host", help="pte target recipe in export/targets/: host, jetson, android"),
    max_seq_len: Optional[int] = typer.Option(None, "--max-seq-len", help="pte: KV cache length (default: the target's)"),
    force: bool = typer.Option(False, help="Replace OUT if it exists"),
    sparse: Optional[bool] = typer.Option(None, "--sparse/--no-sparse",
                                          help="pte: InfLLM-v2 sparse attention (default: on when config.json "
                                               "has sparse_config)"),
    draft: Optional[str] = typer.Option(None, "--draft", help="pte: add the speculative-decoding methods "
                                                             "(verify, draft) with this EAGLE draft head "
                                                             "(DRAFT_DIR or 'tiny-draft')"),
    frspec: Optional[Path] = typer.Option(None, "--frspec", help="pte --draft: FR-Spec id list for the draft's "
                                                                "LM head (edgecpm frspec)"),
):
    """Export a checkpoint: an ExecuTorch program (+ manifest, tokenizer) or a GGUF file."""
    from edgecpm.checkpoint.locate import resolve_model

    from edgecpm.cli.bounds import refuse_unless

    src = resolve_model(model)
    if fmt != "pte" and (draft is not None or frspec is not None):
        raise typer.BadParameter(f"--draft/--frspec add methods to an ExecuTorch program: use --format pte, not {fmt}")
    pte_only = {"--max-seq-len": max_seq_len, "--sparse/--no-sparse": None if sparse is None else True}
    refuse_unless(fmt == "pte", pte_only, f"only for --format pte (a {fmt} file has no KV cache of its own)")
    if fmt == "pte" and max_seq_len is not None:
        from edgecpm.checkpoint.contents import load_config
        from edgecpm.cli.seq_len import check_seq_len

        check_seq_len("--max-seq-len", max_seq_len, load_config(src))
    if fmt == "gguf":
        from edgecpm.export.gguf import export_gguf

        path = export_gguf(src, out, overwrite=force)
        typer.echo(f"wrote {path} ({path.stat().st_size / 2**20:.2f} MiB)")
    elif fmt == "pte":
        from edgecpm.export.pte import PROGRAM, export_pte
        from edgecpm.speculative.export_methods import draft_methods

        path = export_pte(src, out, target=target, max_seq_len=max_seq_len, overwrite=force,
                          progress=lambda msg: typer.echo(f"[export] {msg}", err=True), sparse=sparse,
                          speculative=draft_methods(draft, frspec))
        typer.echo(f"wrote {path} ({(path / PROGRAM).stat().st_size / 2**20:.2f} MiB program)")
    elif fmt == "onnx":
        from edgecpm.export.onnx import export_onnx

        path = export_onnx(src, out, overwrite=force, progress=lambda msg: typer.echo(f"[export] {msg}", err=True))
        typer.echo(f"wrote {path} ({path.stat().st_size / 2**20:.2f} MiB)")
    else:
        raise typer.BadParameter(f"--format {fmt}: choose pte, gguf or onnx")


@app.command()
@friendly_errors
def bench(
    model: str = ModelArg,
    device: str = typer.Option("host", help="host (eager, or .pte via the ExecuTorch runtime and the native "
                                            "runner) or cuda (the checkpoint on the GPU with the Triton kernels)"),
    n_prompt: int = typer.Option(64, "--n-prompt", help="Prompt tokens (the pp test), at least 1"),
    n_gen: int = typer.Option(32, "-n", "--n-gen", help="Generated tokens (the tg test), at least 1"),
    reps: int = typer.Option(3, "-r", "--repetitions", help=f"Runs per test after one warm-up, 1..{MAX_REPS}"),
    fmt: str = typer.Option("md", "--format", help="md, csv or json (json keeps the raw samples)"),
    out: Optional[str] = typer.Option(None, "-o", "--out", help="Write the report to this file (default: "
                                                                "print it)"),
    force: bool = typer.Option(False, help="Replace OUT if it exists"),
    threads: Optional[int] = typer.Option(None, "--threads", help="Threads for every backend: torch's (eager, "
                                                                  "cuda), ExecuTorch's pool (.pte in Python) and "
                                                                  "the runner's -t (default: each one's own, "
                                                                  "one per core for ExecuTorch and the runner)"),
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
    old_prompt_count: Optional[str] = typer.Option(None, "-p", hidden=True,
                                                   help="Refused with a pointer to --n-prompt (older usage)"),
):
    """Prefill / decode speed of a checkpoint or an exported .pte, llama-bench style (with --spec:
    speculative decoding beside plain, on held-out text)."""
    from edgecpm.bench import run_bench
    from edgecpm.checkpoint.contents import load_config
    from edgecpm.checkpoint.locate import resolve_model
    from edgecpm.cli.bounds import check_threads, refuse_unless
    from edgecpm.cli.common import is_program_dir
    from edgecpm.cli.output_file import check_output_file, write_text
    from edgecpm.cli.seq_len import check_seq_len
    from edgecpm.cli.spec import spec_config

    if old_prompt_count is not None:
        raise typer.BadParameter(f"-p {old_prompt_count}: bench's prompt length is --n-prompt N (-p is prompt text, "
                                 "as in generate)")
    if fmt not in ("md", "csv", "json"):
        raise typer.BadParameter(f"--format {fmt}: choose md, csv or json")
    if out in ("md", "csv", "json"):  # the older meaning of -o; as typed, so -o ./json is a file
        raise typer.BadParameter(f"-o {out}: -o is the file to write; for the format pass --format {out} "
                                 f"(to write a file named {out}, pass -o ./{out})")
    out = None if out is None else Path(out)
    check_range("--n-prompt", n_prompt, 1)
    check_range("-n/--n-gen", n_gen, 1)
    check_range("-r/--repetitions", reps, 1, MAX_REPS)
    check_threads("--threads", threads)
    check_range("--seed", seed, 0, 2**63 - 1)
    refuse_unless(spec is None, {"--seed": seed}, "only for the random prompt; with --spec the prompt is "
                                                  "held-out text")
    refuse_unless(out is not None, {"--force": force}, "only with -o FILE")
    speculative = spec_config(spec, tree, num_iter, topk_per_iter, tree_size, chain_len, frspec)
    if out is not None:
        check_output_file(out, force)  # before minutes of benchmarking
    path = resolve_model(model)
    if is_program_dir(path):
        refuse_unless(False, {"--dtype": dtype}, f"{model} is an exported program, whose dtype was fixed at export")
    else:
        # The cache holds the prompt, the generated tokens and a verify step's draft slots.
        headroom = 0 if speculative is None else max(speculative.max_nodes, speculative.max_draft_slots + 1)
        need = n_prompt + n_gen + 2 + headroom
        check_seq_len("-n", need, load_config(path), dtype,
                      label=f"--n-prompt {n_prompt} -n {n_gen} (a cache of {need} positions)")
    report = run_bench(model, device, n_prompt, n_gen, reps, parse_dtype(dtype), seed=seed or 0, spec_arg=spec,
                       spec=speculative, frspec=frspec, threads=threads)
    text = {"md": report.markdown, "csv": report.csv, "json": report.json}[fmt]()
    if out is None:
        typer.echo(text)
    else:
        write_text(out, text)
        typer.echo(f"wrote {out} ({fmt}, {len(report.rows)} rows)")


@app.command()
@friendly_errors
def frspec(
    model: str = ModelArg,
    corpus: Path = typer.Option(..., help="UTF-8 text whose token frequencies rank the vocabulary"),
    size: int = typer.Option(..., help="Ids to keep, 1..vocabulary size (MiniCPM4: 8192, 16384 or 32768)"),
    out: Path = typer.Option(..., "-o", "--out", help="FR-Spec file to write (safetensors)"),
    force: bool = typer.Option(False, help="Replace OUT if it exists"),
):
    """FR-Spec: the SIZE most frequent token ids of CORPUS (EOS always kept) for the draft LM head."""
    from edgecpm.checkpoint.contents import load_config
    from edgecpm.checkpoint.locate import resolve_model
    from edgecpm.cli.output_file import check_output_file
    from edgecpm.speculative.frspec import count_tokens, save_frspec, top_ids
    from edgecpm.tokenizer.tokenizer import load_tokenizer

    model_dir = resolve_model(model)
    cfg = load_config(model_dir)
    check_range("--size", size, 1, cfg.vocab_size, f" (the vocabulary has {cfg.vocab_size} ids)")
    check_output_file(out, force)  # before counting a corpus
    tok = load_tokenizer(model_dir, cfg.bos_token_id, cfg.eos_token_id)
    lines = read_text_file(corpus, "--corpus").splitlines(keepends=True)
    with progress_bar(len(lines), "counting", "line") as bar:
        counts = count_tokens(tok, (bar.update(1) or line for line in lines))
    freq = top_ids(counts, size, cfg.vocab_size, keep=tok.eos_ids)
    save_frspec(freq, out)
    typer.echo(f"wrote {out}: {size} of {cfg.vocab_size} ids ({100 * size / cfg.vocab_size:.1f}% of the "
               f"vocabulary) cover {100 * freq.coverage:.1f}% of {sum(counts.values()):,} corpus tokens")


@app.command("train-draft")
@friendly_errors
def train_draft(
    model: str = ModelArg,
    out: Path = typer.Option(..., "-o", "--out", help="DRAFT_DIR to create"),
    corpus: Optional[Path] = typer.Option(None, help="UTF-8 text (default: the embedded training corpus)"),
    steps: int = typer.Option(120, help="Optimizer steps, at least 1"),
    batch: int = typer.Option(8, help="Windows per optimizer step, at least 1"),
    seq: int = typer.Option(128, help="Tokens per training window, 2..the model's positions"),
    lr: float = typer.Option(3e-3, help="AdamW learning rate, in (0, 1]"),
    unroll: int = typer.Option(3, help="Draft steps trained per position (EAGLE-3 training-time test), 1..16"),
    seed: int = typer.Option(0, help="Seed of the initial weights and the batch order, 0..2^63-1"),
    threads: int = typer.Option(2, help="torch threads for training"),
    force: bool = typer.Option(False, help="Replace OUT if it exists"),
):
    """Train an EAGLE draft head on CPU from the model's own hidden states (teacher forcing)."""
    import json

    from edgecpm.atomic import check_output_dir
    from edgecpm.checkpoint.contents import load_config
    from edgecpm.checkpoint.locate import resolve_model
    from edgecpm.cli.bounds import check_threads
    from edgecpm.speculative.train import run as run_training

    check_range("--steps", steps, 1)
    check_range("--batch", batch, 1)
    check_range("--lr", lr, 0.0, 1.0)
    if lr == 0.0:
        raise typer.BadParameter("--lr 0.0: must be above 0 (nothing would be learned)")
    check_range("--unroll", unroll, 1, 16)
    check_range("--seed", seed, 0, 2**63 - 1)
    check_threads("--threads", threads)
    limit = load_config(resolve_model(model)).max_position_embeddings
    check_range("--seq", seq, 2, limit, f" (the model has {limit} positions)")
    if corpus is not None:
        read_text_file(corpus, "--corpus")  # a typo or a wrong encoding fails now, not after loading
    check_output_dir(out, force)  # before minutes of training
    _, accept = run_training(model, out, corpus, steps, batch, seq, lr, unroll, seed, threads, force,
                             log=lambda e: typer.echo(json.dumps(e), err=True))
    typer.echo(f"wrote {out}: held-out mean accepted tokens per verify step {accept}")


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
def doctor():
    """Versions and what is available on this machine."""
    from edgecpm.doctor import report

    typer.echo(report())


def main():
    app()


if __name__ == "__main__":
    main()
