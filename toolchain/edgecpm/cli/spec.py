"""The speculative-decoding side of ``edgecpm generate --spec`` and ``edgecpm bench --spec``
(kept out of app.py): the options both commands take, loading a draft, the generate loop."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from edgecpm.export.spec_chunk import SPEC_CHUNK

SpecOption = typer.Option(None, "--spec", help="Speculative decoding with this EAGLE draft head (DRAFT_DIR, "
                                               "or 'tiny-draft'; 'program' for a .pte exported with --draft)")
TreeOption = typer.Option(None, "--tree/--chain", help="--spec: EAGLE-2 tree (default) or chain drafting")
FrspecOption = typer.Option(None, "--frspec", help="--spec: FR-Spec id list (edgecpm frspec)")
NumIterOption = typer.Option(None, "--num-iter", help="--tree: expansion rounds, 0..16 (default 2)")
TopkOption = typer.Option(None, "--topk-per-iter", help="--tree: children per expanded node, 1..64 (default 10)")
TreeSizeOption = typer.Option(None, "--tree-size", help="--tree: tokens verified per step, root included, "
                                                        "2..64 (default 12)")
ChainLenOption = typer.Option(None, "--chain-len", help="--chain: draft tokens per step, 1..63 (default 3)")

MAX_NUM_ITER = 16  # EAGLE-2 uses 2..6; each round is a draft call per step


def spec_config(spec: Optional[str], tree: Optional[bool], num_iter: Optional[int], topk_per_iter: Optional[int],
                tree_size: Optional[int], chain_len: Optional[int], frspec: Optional[Path]):
    """The SpecConfig the options describe (None without --spec), refusing options that cannot
    apply (drafting options without --spec, tree options with --chain and the reverse) and
    sizes out of bounds."""
    from edgecpm.cli.bounds import check_range, refuse_unless
    from edgecpm.speculative.tree import SpecConfig

    tree_options = {"--num-iter": num_iter, "--topk-per-iter": topk_per_iter, "--tree-size": tree_size}
    mode = {"--tree" if tree else "--chain": None if tree is None else True}
    refuse_unless(spec is not None, {**mode, **tree_options, "--chain-len": chain_len,
                                     "--frspec": frspec},
                  "only with --spec DRAFT (speculative decoding); without it decoding is plain")
    if spec is None:
        return None
    chain = tree is False
    refuse_unless(not chain, tree_options, "only for --tree drafting, not --chain")
    refuse_unless(chain, {"--chain-len": chain_len}, "only for --chain drafting; pass --chain, or --tree-size "
                                                      "for a tree")
    if frspec is not None and not frspec.is_file():
        raise typer.BadParameter(f"--frspec {frspec}: no such file (write one with `edgecpm frspec`)")
    check_range("--chain-len", chain_len, 1, SPEC_CHUNK - 1, " (draft tokens per verify step)")
    check_range("--num-iter", num_iter, 0, MAX_NUM_ITER)
    check_range("--topk-per-iter", topk_per_iter, 1, SPEC_CHUNK)
    check_range("--tree-size", tree_size, 2, SPEC_CHUNK, " (tokens per verify step, the root included)")
    d = SpecConfig()
    cfg = SpecConfig(mode="chain" if chain else "tree", num_iter=d.num_iter if num_iter is None else num_iter,
                     topk_per_iter=d.topk_per_iter if topk_per_iter is None else topk_per_iter,
                     tree_size=d.tree_size if tree_size is None else tree_size,
                     chain_len=d.chain_len if chain_len is None else chain_len)
    if not chain:
        scored = cfg.topk_per_iter * (1 + cfg.num_iter * cfg.topk_per_iter)
        if cfg.tree_size - 1 > scored:
            raise typer.BadParameter(f"--tree-size {cfg.tree_size}: {cfg.num_iter} rounds of {cfg.topk_per_iter} "
                                     f"children score only {scored} nodes; pass --tree-size {scored + 1} or less, "
                                     "or a larger --num-iter/--topk-per-iter")
    return cfg


def generate_speculative(model, tok, ids: list[int], n: int, sampling, spec_arg: str, spec,
                         frspec: Optional[Path], stats: bool, echo_prompt: str) -> None:
    """``echo_prompt`` is printed before the tokens; empty for a chat reply, whose end-of-turn
    marker is then left out too."""
    from edgecpm.cli.stream import reply_printer, streamed_line
    from edgecpm.generate import TextStream, generate as plain
    from edgecpm.speculative.decode import speculative_generate
    from edgecpm.speculative.loading import load_spec, spec_label

    base, draft = load_spec(model, spec_arg, frspec)
    stream = TextStream(tok)
    with streamed_line(echo_prompt):
        res = speculative_generate(base, draft, ids, n, sampling, spec, eos_ids=tok.eos_ids,
                                   on_token=reply_printer(stream, () if echo_prompt else tok.eos_ids))
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
