"""``edgecpm deploy``, and what ``generate``/``bench`` do with ``--device ssh://...|adb://...``.

The device runs the native runner, which decodes greedily from token ids: the prompt is
tokenized here, and options the runner has no counterpart for are refused, not ignored.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Optional

import typer

from edgecpm.cli.bounds import check_range, refuse_unless
from edgecpm.cli.common import ModelArg

DEVICE_HELP = ("Where to run: host (this machine), ssh://user@host:port/folder (user, port, folder optional; "
               "a Jetson or any Linux board; your ssh config and keys apply) or adb://SERIAL (an Android phone); "
               "remote devices run an exported bundle with the native runner")
TIMEOUT_HELP = "Remote devices: seconds one command or one file copy may take before it is stopped (default 600)"
DEFAULT_TIMEOUT_S = 600.0


def device_option():
    return typer.Option("host", "--device", help=DEVICE_HELP)


def timeout_option():
    return typer.Option(None, "--timeout", help=TIMEOUT_HELP)


def check_timeout(device: str, timeout: Optional[float]) -> float:
    from edgecpm.runtime.devices import is_remote

    refuse_unless(is_remote(device), {"--timeout": timeout}, "only with a remote --device (ssh:// or adb://)")
    check_range("--timeout", timeout, 1, 86400)
    return DEFAULT_TIMEOUT_S if timeout is None else timeout


def deploy(
    model: str = ModelArg,
    device: str = typer.Option(..., "--device", help="ssh://user@host:port/folder or adb://SERIAL/folder "
                                                     "(user, port, folder optional)"),
    timeout: Optional[float] = timeout_option(),
):
    """Copy an exported bundle and the native runner to a device (only files that changed)."""
    from edgecpm.on_device.bundle_info import bundle_info
    from edgecpm.runtime.deploy import deploy as run_deploy
    from edgecpm.runtime.device_info import describe
    from edgecpm.runtime.devices import is_remote, open_device

    if not is_remote(device):
        raise typer.BadParameter(f"--device {device}: deploy copies to a remote device: ssh://... or adb://...")
    seconds = check_timeout(device, timeout)
    transport = open_device(device)   # a malformed URL is named before the bundle is read
    d = run_deploy(transport, bundle_info(model).path, seconds)
    typer.echo(describe(d.info))
    for s in d.synced:
        typer.echo(f"{s.folder}: {len(s.copied)} file(s) copied ({s.bytes_sent / 2**20:.1f} MiB), "
                   f"{len(s.unchanged)} unchanged")
    command = ["env", *(f"{k}={v}" for k, v in d.env.items()), *d.launch, "--model", d.model, "--vocab", d.vocab]
    typer.echo(f"run it there: {shlex.join(command)} --prompt-ids 1,2,3")


def refuse_host_only(device: str, options: dict[str, object]) -> None:
    """Options the device runner has no counterpart for."""
    refuse_unless(False, options, f"not with --device {device}: the device's runner decodes greedily from the "
                                  "exported program (drop them, or run on the host)")


def generate_remote(device: str, model: str, prompt: str, n: int, chat: bool, stats: bool, timeout: float) -> None:
    from edgecpm.cli.stream import streamed_line
    from edgecpm.on_device.bundle_info import bundle_info, check_fits
    from edgecpm.on_device.generate import generate_on_device

    info = bundle_info(model)
    tok = info.tokenizer
    ids = tok.chat([{"role": "user", "content": prompt}]) if chat else tok.encode(prompt, bos=True)
    check_fits(info, len(ids), n)
    with streamed_line("" if chat else prompt):
        run = generate_on_device(device, info.path, ids, n, lambda text: typer.echo(text, nl=False), timeout)
    if stats:
        s = run.stats
        typer.echo(f"[{device}: prompt {s['prompt_tokens']} tok, prefill {s['prefill_tok_s']:.1f} tok/s; "
                   f"generated {s['generated_tokens']} tok, decode {s['decode_tok_s']:.1f} tok/s]", err=True)


def bench_remote(device: str, model: str, n_prompt: int, n_gen: int, reps: int, seed: int,
                 threads: Optional[int], timeout: float, depths: tuple[int, ...] = (0,), compare: list[str] = (),
                 weights: Optional[Path] = None):
    from edgecpm.on_device.bench import bench_on_device
    from edgecpm.on_device.bundle_info import bundle_info

    return bench_on_device(device, bundle_info(model), n_prompt, n_gen, reps, seed, threads, timeout, depths, compare,
                           weights)
