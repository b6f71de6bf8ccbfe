"""Printing generated tokens as they come."""

from __future__ import annotations

import contextlib
from typing import Callable, Iterable

import typer


def reply_printer(stream, hide: Iterable[int] = ()) -> Callable[[int], None]:
    """An ``on_token`` callback that echoes the text of each new token (``TextStream``), leaving
    out ``hide`` (a chat reply's end-of-turn marker is not part of the reply)."""
    hidden = set(hide)

    def on_token(token: int) -> None:
        if token not in hidden:
            typer.echo(stream.push(token), nl=False)

    return on_token


@contextlib.contextmanager
def streamed_line(prefix: str):
    """Echo ``prefix``, let the block stream tokens after it, and end the line even when the block
    fails, so an error message starts on a line of its own instead of after the text."""
    typer.echo(prefix, nl=False)
    try:
        yield
    finally:
        typer.echo()
