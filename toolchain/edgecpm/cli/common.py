"""What every command shares: friendly errors, progress bars, loading a model + tokenizer."""

from __future__ import annotations

import functools
import sys

import typer

from edgecpm.errors import EdgecpmError

ModelArg = typer.Argument(..., help="A Hugging Face model directory (float or edgecpm-quantized), an "
                                        "exported .pte directory (generate, eval), or an embedded model: "
                                        "'tiny', 'tiny-ternary'")
DTYPE_HELP = "Compute dtype: fp32, bf16 or fp16 (default: the checkpoint's)"

# What a user can fix: bad input (EdgecpmError), a bad flag (typer.BadParameter), an output that
# exists. A ValueError or anything else is a bug in edgecpm: it keeps its traceback, so the
# report that comes back says where.
USER_ERRORS = (EdgecpmError, typer.BadParameter, FileExistsError)


def friendly_errors(fn):
    """User errors → one red ``error: ...`` line, exit code 2 (instead of Typer's boxed usage)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except USER_ERRORS as e:
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


def read_text_file(path, option: str) -> str:
    """A UTF-8 text file named by ``option``, or a one-line error saying what is wrong with it."""
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise typer.BadParameter(f"{option} {path}: " + ("not a file" if path.exists() else "no such file"))
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise typer.BadParameter(f"{option} {path}: not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset "
                                 f"{e.start}); convert it, e.g. with iconv -t UTF-8") from None
    except OSError as e:
        raise typer.BadParameter(f"{option} {path}: cannot read it ({e.strerror})") from None


def parse_dtype(dtype: str | None):
    """--dtype as a torch dtype; None keeps the checkpoint's."""
    import torch

    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16, None: None}
    if dtype not in dtypes:
        raise typer.BadParameter(f"--dtype {dtype!r}: choose fp32, bf16 or fp16")
    return dtypes[dtype]


def is_program_dir(model_dir) -> bool:
    """An exported ExecuTorch bundle (``edgecpm export``), rather than a checkpoint."""
    return (model_dir / "manifest.json").is_file()


def utf8_argument(option: str, text: str) -> str:
    """A command-line string that was valid UTF-8. Python hands undecodable argv bytes over as
    lone surrogates (surrogateescape), which no tokenizer accepts."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raw = text.encode("utf-8", "surrogateescape")
        offset = len(text[:e.start].encode("utf-8", "surrogateescape"))
        raise typer.BadParameter(f"{option}: not UTF-8 text (byte 0x{raw[offset]:02x} at offset {offset}); "
                                 "pass UTF-8 (check the terminal's or the file's encoding)") from None
    return text


def load_model_and_tokenizer(model_arg: str, max_seq_len: int | None = None, dtype: str | None = None,
                             seq_option: str = "--max-seq-len"):
    """(directory, model, tokenizer). ``max_seq_len`` (named ``seq_option`` in errors) is checked
    against the model and this machine's memory before the cache is allocated; a program has
    its own, fixed at export, which must hold it."""
    from edgecpm.checkpoint.contents import expected_shapes, load_config
    from edgecpm.checkpoint.loader import load_model
    from edgecpm.checkpoint.locate import resolve_model
    from edgecpm.cli.bounds import refuse_unless
    from edgecpm.cli.seq_len import check_seq_len
    from edgecpm.tokenizer.tokenizer import load_tokenizer

    model_dir = resolve_model(model_arg)
    if is_program_dir(model_dir):
        from edgecpm.runtime.pte import PteModel

        refuse_unless(False, {"--dtype": dtype}, f"{model_dir} is an exported program, whose dtype was fixed at "
                                                 "export; drop it (or pass the checkpoint it came from)")
        model = PteModel(model_dir)
        if max_seq_len is not None and max_seq_len > model.max_seq_len:
            raise typer.BadParameter(f"{seq_option} {max_seq_len}: {model_dir} was exported with max_seq_len "
                                     f"{model.max_seq_len} (fixed in the program); use at most {model.max_seq_len}, "
                                     f"or re-export with `edgecpm export --max-seq-len {max_seq_len}`")
        cfg = model.config
        return model_dir, model, load_tokenizer(model_dir, cfg.bos_token_id, cfg.eos_token_id)
    torch_dtype = parse_dtype(dtype)
    cfg = load_config(model_dir)
    check_seq_len(seq_option, max_seq_len, cfg, dtype)
    with progress_bar(len(expected_shapes(cfg)), "loading", "tensor") as bar:
        model = load_model(model_dir, dtype=torch_dtype, max_seq_len=max_seq_len,
                           progress=lambda _: bar.update(1))
    tokenizer = load_tokenizer(model_dir, cfg.bos_token_id, cfg.eos_token_id)
    return model_dir, model, tokenizer
