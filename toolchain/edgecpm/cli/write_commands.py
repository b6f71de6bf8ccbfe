"""The ``edgecpm`` commands that write artifacts: init, quantize, export, frspec, train-draft.

Plain functions whose parameters are Typer options; ``app.py`` registers them with the shared error
handling. Like every command they import torch inside their bodies, so ``--help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from edgecpm.cli.bounds import check_range
from edgecpm.cli.common import ModelArg, progress_bar, read_text_file
from edgecpm.cli.quant_options import quant_config


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


def quant_types_help() -> str:
    from edgecpm.quant.formats import format_table  # torch-free: --help stays fast

    rows = "\n".join(f"  {name:<8} {bpw:>8}  {desc}" for name, bpw, desc in format_table())
    return f"Packed formats (bits/weight):\n\n{rows}"


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
    check_output_file(out, force, "frspec.safetensors")  # before counting a corpus
    tok = load_tokenizer(model_dir, cfg.bos_token_id, cfg.eos_token_id)
    lines = read_text_file(corpus, "--corpus").splitlines(keepends=True)
    with progress_bar(len(lines), "counting", "line") as bar:
        counts = count_tokens(tok, (bar.update(1) or line for line in lines))
    freq = top_ids(counts, size, cfg.vocab_size, keep=tok.eos_ids)
    save_frspec(freq, out)
    typer.echo(f"wrote {out}: {size} of {cfg.vocab_size} ids ({100 * size / cfg.vocab_size:.1f}% of the "
               f"vocabulary) cover {100 * freq.coverage:.1f}% of {sum(counts.values()):,} corpus tokens")


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
