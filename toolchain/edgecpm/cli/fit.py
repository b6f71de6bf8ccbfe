"""Does a request fit the model's KV cache? Checked in the CLI, where the advice can name the
right remedy: an eager model's cache is ``--max-seq-len``; a program's was fixed at export."""

from __future__ import annotations

import typer


def is_program(model) -> bool:
    from edgecpm.runtime.pte import PteModel

    return isinstance(model, PteModel)


def check_fits(model, prompt_tokens: int, new_tokens: int, headroom: int = 0) -> None:
    need = prompt_tokens + new_tokens + headroom
    have = model.max_seq_len
    if need <= have:
        return
    extra = f" + {headroom} draft slots" if headroom else ""
    what = f"prompt ({prompt_tokens} tokens) + {new_tokens} new tokens{extra} need {need} positions"
    limit = model.config.max_position_embeddings
    if need > limit:
        raise typer.BadParameter(f"{what}; the model has {limit} (max_position_embeddings): shorten the prompt or -n")
    if is_program(model):
        raise typer.BadParameter(f"{what}; {model.dir} was exported with max_seq_len {have} (fixed in the program): "
                                 f"ask fewer tokens, or re-export with `edgecpm export --max-seq-len {need}`")
    raise typer.BadParameter(f"{what}; the KV cache has {have}: pass --max-seq-len {need}, or ask fewer tokens")
