"""The speculative-decoding side of ``edgecpm generate --spec`` and ``edgecpm bench --spec``
(kept out of app.py): the options both commands take, loading a draft, the generate loop."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

SpecOption = typer.Option(None, "--spec", help="Speculative decoding with this EAGLE draft head (DRAFT_DIR, "
                                               "or 'tiny-draft'; 'program' for a .pte exported with --draft)")
TreeOption = typer.Option(True, "--tree/--chain", help="--spec: EAGLE-2 tree or chain drafting")
FrspecOption = typer.Option(None, "--frspec", help="--spec: FR-Spec id list (edgecpm frspec)")
NumIterOption = typer.Option(2, "--num-iter", help="--tree: expansion rounds")
TopkOption = typer.Option(10, "--topk-per-iter", help="--tree: children per expanded node")
TreeSizeOption = typer.Option(12, "--tree-size", help="--tree: tokens verified per step (root included)")
ChainLenOption = typer.Option(3, "--chain-len", help="--chain: draft tokens per step")


def spec_config(tree: bool, num_iter: int, topk_per_iter: int, tree_size: int, chain_len: int):
    from edgecpm.speculative.tree import SpecConfig

    return SpecConfig(mode="tree" if tree else "chain", num_iter=num_iter, topk_per_iter=topk_per_iter,
                      tree_size=tree_size, chain_len=chain_len)


def generate_speculative(model, tok, ids: list[int], n: int, sampling, spec_arg: str, spec,
                         frspec: Optional[Path], stats: bool, echo_prompt: str) -> None:
    from edgecpm.generate import TextStream, generate as plain
    from edgecpm.speculative.decode import speculative_generate
    from edgecpm.speculative.loading import load_spec, spec_label

    base, draft = load_spec(model, spec_arg, frspec)
    stream = TextStream(tok)
    typer.echo(echo_prompt, nl=False)
    res = speculative_generate(base, draft, ids, n, sampling, spec, eos_ids=tok.eos_ids,
                               on_token=lambda t: typer.echo(stream.push(t), nl=False))
    typer.echo()
    if stats:
        # Both timed warm and without streaming: plain decoding of the same request, then the
        # speculative run again (the streamed one above paid first-call costs).
        ref = plain(model, ids, n, sampling, eos_ids=tok.eos_ids)
        res = speculative_generate(base, draft, ids, n, sampling, spec, eos_ids=tok.eos_ids)
        spec_tok_s = len(res.tokens) / (res.prefill_s + res.decode_s)
        plain_tok_s = len(ref.tokens) / (ref.prefill_s + ref.decode_s)
        same = "" if sampling.temperature else (
            ", output identical to plain" if ref.tokens == res.tokens else ", OUTPUT DIFFERS FROM PLAIN")
        typer.echo(f"[speculative ({spec_label(spec, draft)}): {len(res.tokens)} tok in {res.verify_steps} verify steps, "
                   f"mean accepted {res.mean_accepted:.2f} tok/step, draft time {100 * res.draft_share:.0f}%; "
                   f"{spec_tok_s:.1f} tok/s vs plain {plain_tok_s:.1f} tok/s "
                   f"({spec_tok_s / plain_tok_s:.2f}x){same}]", err=True)
