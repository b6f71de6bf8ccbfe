"""The ``edgecpm`` command line. Each command imports torch inside its body, so ``--help`` stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from edgecpm.cli.common import friendly_errors, load_model_and_tokenizer, progress_bar

app = typer.Typer(
    name="edgecpm",
    help="MiniCPM4 on the edge: load, generate, evaluate (quantize / export / bench: see README).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ModelArg = typer.Argument(..., help="Hugging Face model directory, or 'tiny' for the embedded model")
DTYPE_HELP = "Compute dtype: fp32, bf16 or fp16 (default: the checkpoint's)"


@app.command()
@friendly_errors
def generate(
    model: str = ModelArg,
    prompt: str = typer.Option(..., "-p", "--prompt", help="Prompt text"),
    n: int = typer.Option(128, "-n", "--max-new-tokens", help="Tokens to generate"),
    temperature: float = typer.Option(0.0, help="0 = greedy"),
    top_p: float = typer.Option(1.0, "--top-p"),
    top_k: int = typer.Option(0, "--top-k", help="0 = off"),
    seed: Optional[int] = typer.Option(None, help="Seed for sampling (reproducible runs)"),
    chat: bool = typer.Option(False, help="Wrap the prompt in the ChatML template"),
    max_seq_len: Optional[int] = typer.Option(None, "--max-seq-len", help="KV cache length"),
    dtype: Optional[str] = typer.Option(None, help=DTYPE_HELP),
    stats: bool = typer.Option(False, help="Print prefill/decode speed after the text"),
):
    """Generate text with the eager model and its KV cache, streaming as it goes."""
    from edgecpm.generate import SamplingConfig, TextStream, generate as run

    sampling = SamplingConfig(temperature=temperature, top_p=top_p, top_k=top_k, seed=seed)
    _, m, tok = load_model_and_tokenizer(model, max_seq_len, dtype)
    ids = tok.chat([{"role": "user", "content": prompt}]) if chat else tok.encode(prompt, bos=True)
    stream = TextStream(tok)
    typer.echo(prompt, nl=False)
    res = run(m, ids, n, sampling, eos_ids=tok.eos_ids,
              on_token=lambda t: typer.echo(stream.push(t), nl=False))
    typer.echo()
    if stats:
        typer.echo(f"[prompt {len(ids)} tok, prefill {res.prefill_tok_s:.1f} tok/s; "
                   f"generated {len(res.tokens)} tok, decode {res.decode_tok_s:.1f} tok/s]", err=True)


@app.command("eval")
@friendly_errors
def eval_(
    model: str = ModelArg,
    corpus: Optional[Path] = typer.Option(
        None, help="UTF-8 text file (default: the held-out split of the embedded model's corpus)"),
    ctx: int = typer.Option(256, help="Window length in tokens"),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", help="Score at most this many tokens"),
    dtype: Optional[str] = typer.Option(None, help=DTYPE_HELP),
):
    """Perplexity of a model on a text file."""
    import torch

    from edgecpm.eval.perplexity import perplexity

    if corpus is None:
        from edgecpm.tiny.corpus import held_out_text

        text, source = held_out_text(), "held-out split of the CPython docstring corpus"
    else:
        if not corpus.is_file():
            raise ValueError(f"{corpus}: no such file")
        text, source = corpus.read_text(encoding="utf-8"), str(corpus)
    _, m, tok = load_model_and_tokenizer(model, ctx, dtype)
    ids = torch.tensor(tok.encode(text), dtype=torch.long)
    if max_tokens:
        ids = ids[: max_tokens + 1]
    with progress_bar(ids.numel(), "scoring", "tok") as bar:
        res = perplexity(m, ids, ctx, progress=bar.update)
    typer.echo(f"| model | corpus | ctx | tokens | PPL |\n| --- | --- | --- | --- | --- |\n"
               f"| {model} | {source} | {ctx} | {res.tokens} | {res.ppl:.2f} |")


@app.command()
@friendly_errors
def init(
    out: Path = typer.Option(..., "-o", "--out", help="Directory to create"),
    preset: str = typer.Option(..., help="tiny, minicpm4-0.5b, minicpm4-8b, minicpm4.1-8b"),
    random: bool = typer.Option(False, "--random", help="Random weights (required: no download here)"),
    dtype: str = typer.Option("bf16", help="Weight dtype: bf16, fp16 or fp32"),
    layers: Optional[int] = typer.Option(None, help="Override the layer count (small speed models)"),
    seed: int = typer.Option(0),
    force: bool = typer.Option(False, help="Replace OUT if it exists"),
):
    """Write a checkpoint at a preset's shape in the Hugging Face layout."""
    if not random:
        raise ValueError("only --random is supported: edgecpm cannot download weights; "
                         "pass --random for a random-weight checkpoint at the real shape")
    import torch

    from edgecpm.checkpoint.loader import expected_shapes
    from edgecpm.checkpoint.random_init import write_random_checkpoint
    from edgecpm.model.presets import preset as get_preset

    cfg = get_preset(preset)
    if layers is not None:
        cfg.num_hidden_layers = layers
    torch_dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}.get(dtype)
    if torch_dtype is None:
        raise ValueError(f"--dtype {dtype!r}: choose bf16, fp16 or fp32")
    with progress_bar(len(expected_shapes(cfg)), f"writing {preset}", "tensor") as bar:
        write_random_checkpoint(cfg, out, torch_dtype, seed, overwrite=force,
                                progress=lambda _: bar.update(1))
    size = sum(f.stat().st_size for f in out.iterdir()) / 2**20
    typer.echo(f"wrote {out}: {preset}, {cfg.num_parameters / 1e6:.1f}M parameters, {size:.1f} MiB")


@app.command()
@friendly_errors
def demo(
    n: int = typer.Option(48, "-n", help="Tokens to generate per prompt"),
):
    """The pipeline on the embedded tiny model: load → generate → evaluate, with a speed table."""
    from edgecpm.demo import run_demo

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
