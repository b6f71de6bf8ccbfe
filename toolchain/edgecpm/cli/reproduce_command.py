"""``edgecpm reproduce``: the papers' claims re-measured, as tables (and a PNG per claim).

Every option is checked before the first experiment starts (they take minutes), so a typo in
``-o`` or ``--plot`` costs nothing.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Optional

import typer

from edgecpm.reproduce import DEFAULT_ARTIFACTS

FORMATS = ("md", "json")


def reproduce(
    experiment: str = typer.Argument("all", help="frspec, infllmv2, bitcpm, edge, or all"),
    device: str = typer.Option("host", help="host (the CPU rows), or cuda (adds the GPU rows: InfLLM-v2's Triton "
                                            "kernel against SDPA)"),
    fmt: str = typer.Option("md", "--format", help="md (a table per experiment) or json (every figure, raw "
                                                   "timings kept)"),
    out: Optional[str] = typer.Option(None, "-o", "--out", help="Write the report to this file (default: print it)"),
    force: bool = typer.Option(False, help="Replace OUT and the PNGs in the --plot folder if they exist"),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Folder for one PNG per claim (paper vs ours); needs "
                                                             "matplotlib"),
    artifacts: Path = typer.Option(DEFAULT_ARTIFACTS, "--artifacts",
                                   help="The 0.5B-shape bundles (int4-pte, ternary-pte, fp-pte) and GGUFs "
                                        "(`python -m benchmarks.peers --shape minicpm4-0.5b` makes them) and the depth "
                                        "bundles depth-dense-pte, depth-sparse-pte (`python -m "
                                        "benchmarks.peers_depth_artifacts`); rows whose files are missing say so"),
    tokenizer: Optional[Path] = typer.Option(None, "--tokenizer", help="The real MiniCPM4 tokenizer folder "
                                                                       "(default: $EDGECPM_SHARED/data/"
                                                                       "minicpm4-0.5b, else ARTIFACTS/fp)"),
    quick: bool = typer.Option(False, "--quick", help="Smaller settings (one context, fewer prompts and "
                                                      "repetitions, no llama.cpp): a check that it runs, not figures"),
):
    """The papers' claims (FR-Spec, InfLLM-v2, BitCPM, the edge table) re-measured with edgecpm's own
    code at this machine's scale, each beside the paper's figure."""
    from edgecpm.cli.output_file import check_output_file, write_text
    from edgecpm.reproduce import experiment_names, find_tokenizer, header, run_experiment
    from edgecpm.reproduce.render import render, write_plots

    try:
        names = experiment_names(experiment)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    if device not in ("host", "cuda"):
        raise typer.BadParameter(f"--device {device}: choose host or cuda")
    if fmt not in FORMATS:
        raise typer.BadParameter(f"--format {fmt}: choose md or json")
    if out in FORMATS:  # the issue's `-o md` spelling; -o is always a file in edgecpm
        raise typer.BadParameter(f"-o {out}: -o is the file to write; for the format pass --format {out} "
                                 f"(to write a file named {out}, pass -o ./{out})")
    if artifacts != DEFAULT_ARTIFACTS and not artifacts.is_dir():   # the default may be absent: its rows say so
        raise typer.BadParameter(f"--artifacts {artifacts}: no such folder; give the folder "
                                 "`python -m benchmarks.peers --shape minicpm4-0.5b` wrote (build/peers/minicpm4-0.5b)")
    if tokenizer is not None and not (tokenizer / "tokenizer.model").is_file():
        raise typer.BadParameter(f"--tokenizer {tokenizer}: no tokenizer.model there; pass the folder of the "
                                 "MiniCPM4 release's tokenizer files")
    out_path = None if out is None else Path(out)
    if out_path is not None:
        check_output_file(out_path, force, f"reproduce.{fmt}")
    if plot is not None:
        check_plot_folder(plot, force)
    gpu = device == "cuda"
    if gpu:
        import torch

        if not torch.cuda.is_available():
            raise typer.BadParameter("--device cuda: no CUDA device here (torch.cuda.is_available() is False); "
                                     "run without it for the host rows")
    found = find_tokenizer(tokenizer, artifacts)
    results = []
    for name in names:
        start = time.monotonic()
        typer.echo(f"[reproduce] {name} ...", err=True)
        results.append(run_experiment(name, gpu, artifacts, found, quick))
        typer.echo(f"[reproduce] {name} done in {time.monotonic() - start:.0f} s", err=True)
    text = render(results, header(gpu), fmt)
    if out_path is None:
        sys.stdout.write(text)
    else:
        write_text(out_path, text)
        typer.echo(f"wrote {out_path} ({fmt}, {sum(len(r.claims) for r in results)} claims)")
    if plot is not None:
        written, skipped = write_plots(results, plot)
        typer.echo(f"wrote {len(written)} plots to {plot}; not plotted ({len(skipped)}): " + "; ".join(skipped))


def check_plot_folder(folder: Path, force: bool) -> None:
    """A folder (made if missing) for the PNGs: refused if it is a file, or holds PNGs without --force."""
    from edgecpm.bench_plot import require_matplotlib

    require_matplotlib()
    if folder.exists() and not folder.is_dir():
        raise typer.BadParameter(f"--plot {folder}: is a file; give a folder for the PNGs")
    if folder.is_dir() and any(folder.glob("*.png")) and not force:
        raise typer.BadParameter(f"--plot {folder}: already holds PNGs; pass --force to replace them, or another "
                                 "folder")
