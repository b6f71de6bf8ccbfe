"""Checks on what a user types: numbers within their bounds, and options that apply to what was
asked. Each failure is a ``typer.BadParameter`` naming the option, which ``friendly_errors`` prints as
one line.

Options whose use depends on another one default to None in the commands, so "given" is
distinguishable from "left at its default": a value nobody typed is never refused.
"""

from __future__ import annotations

import math
import os

import typer


def check_range(option: str, value: int | float | None, low: int | float | None = None,
                high: int | float | None = None, hint: str = "") -> None:
    """``low <= value <= high`` (either bound may be None); None values are not checked."""
    if value is None:
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise typer.BadParameter(f"{option} {value}: must be a finite number{hint}")
    if low is not None and value < low:
        raise typer.BadParameter(f"{option} {value}: must be at least {low}{hint}")
    if high is not None and value > high:
        raise typer.BadParameter(f"{option} {value}: must be at most {high}{hint}")


def refuse_unless(applies: bool, given: dict[str, object], why: str) -> None:
    """Refuse the options of ``given`` (name → value) that were typed, when they cannot apply.

    An option counts as typed when its value is not None and not False (flags default to False).
    """
    if applies:
        return
    typed = [name for name, value in given.items() if value is not None and value is not False]
    if typed:
        raise typer.BadParameter(f"{'/'.join(typed)}: {why}")


def check_threads(option: str, threads: int | None) -> None:
    """At least 1; at most 4x the cores (more only adds context switches, and a typo such as
    ``--threads 1000`` would otherwise start a thousand threads)."""
    cores = os.cpu_count() or 1
    check_range(option, threads, 1, 4 * cores, f" (this machine has {cores} cores)")
