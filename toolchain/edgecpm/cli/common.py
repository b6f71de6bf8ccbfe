"""What every command shares: friendly errors, progress bars, loading a model + tokenizer."""

from __future__ import annotations

import functools
import sys

import typer

from edgecpm.errors import EdgecpmError


def friendly_errors(fn):
    """Bad input (EdgecpmError, ValueError from argument checks) → one red line, exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (EdgecpmError, ValueError, FileExistsError) as e:
            typer.secho(f"error: {e}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            typer.secho("interrupted", fg=typer.colors.YELLOW, err=True)
            raise typer.Exit(130) from None

    return wrapper


def progress_bar(total: int, desc: str, unit: str = "it"):
    """A tqdm bar on a terminal; plain periodic lines in a pipe or log (tqdm would print nothing)."""
    if not sys.stderr.isatty():
        from edgecpm.cli.plain_progress import PlainProgress

        return PlainProgress(total, desc, unit)
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False)


def parse_dtype(dtype: str | None):
    """--dtype as a torch dtype; None keeps the checkpoint's."""
    import torch

    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16, None: None}
    if dtype not in dtypes:
        raise ValueError(f"--dtype {dtype!r}: choose fp32, bf16 or fp16")
    return dtypes[dtype]


def load_model_and_tokenizer(model_arg: str, max_seq_len: int | None = None, dtype: str | None = None):
    from edgecpm.checkpoint.loader import expected_shapes, load_config, load_model
    from edgecpm.checkpoint.locate import resolve_model
    from edgecpm.tokenizer.tokenizer import load_tokenizer

    model_dir = resolve_model(model_arg)
    if (model_dir / "manifest.json").is_file():  # an exported ExecuTorch program
        from edgecpm.export.pte import PteModel

        model = PteModel(model_dir)
        cfg = model.config
        return model_dir, model, load_tokenizer(model_dir, cfg.bos_token_id, cfg.eos_token_id)
    cfg = load_config(model_dir)
    torch_dtype = parse_dtype(dtype)
    with progress_bar(len(expected_shapes(cfg)), "loading", "tensor") as bar:
        model = load_model(model_dir, dtype=torch_dtype, max_seq_len=max_seq_len,
                           progress=lambda _: bar.update(1))
    tokenizer = load_tokenizer(model_dir, cfg.bos_token_id, cfg.eos_token_id)
    return model_dir, model, tokenizer
