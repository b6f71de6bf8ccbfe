"""The speculative-decoding side of ``edgecpm generate --spec`` (kept out of app.py)."""

from __future__ import annotations

from pathlib import Path

import typer


def load_spec(model, spec_arg: str, frspec: Path | None):
    """(base, draft) for ``speculative_generate``: an eager model and the draft head bound to it
    (with the FR-Spec subset if one is given), or an exported program's own ``verify``/``draft``
    methods (``--spec program``; the draft and FR-Spec list were fixed at export)."""
    from edgecpm.speculative.draft import load_draft, resolve_draft
    from edgecpm.speculative.frspec import load_frspec

    if not hasattr(model, "hidden_states"):
        from edgecpm.speculative.pte import load_pte_spec

        exported = (model.manifest.get("speculative") or {}).get("draft")
        if spec_arg not in ("program", exported) or frspec is not None:
            raise ValueError(f"{model.dir}: an exported program drafts with the head it was exported with "
                             f"({exported or 'none'}): pass --spec program, without --frspec")
        return load_pte_spec(model)
    cfg = model.config
    dtype = model.model.norm.weight.dtype
    draft = load_draft(resolve_draft(spec_arg), cfg, dtype=dtype).bind(model)
    if frspec is not None:
        draft.set_vocab(load_frspec(frspec, cfg.vocab_size).ids)
    return model, draft


def generate_speculative(model, tok, ids: list[int], n: int, sampling, spec_arg: str, tree: bool,
                         frspec: Path | None, num_iter: int, topk_per_iter: int, tree_size: int,
                         chain_len: int, stats: bool, echo_prompt: str) -> None:
    from edgecpm.generate import TextStream, generate as plain
    from edgecpm.speculative.decode import speculative_generate
    from edgecpm.speculative.tree import SpecConfig

    base, draft = load_spec(model, spec_arg, frspec)
    spec = SpecConfig(mode="tree" if tree else "chain", num_iter=num_iter, topk_per_iter=topk_per_iter,
                      tree_size=tree_size, chain_len=chain_len)
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
        mode = f"tree {num_iter}/{topk_per_iter}/{tree_size}" if tree else f"chain {chain_len}"
        vocab = f", FR-Spec {draft.vocab_ids.numel()} ids" if draft.vocab_ids is not None else ""
        same = "" if sampling.temperature else (
            ", output identical to plain" if ref.tokens == res.tokens else ", OUTPUT DIFFERS FROM PLAIN")
        typer.echo(f"[speculative ({mode}{vocab}): {len(res.tokens)} tok in {res.verify_steps} verify steps, "
                   f"mean accepted {res.mean_accepted:.2f} tok/step, draft time {100 * res.draft_share:.0f}%; "
                   f"{spec_tok_s:.1f} tok/s vs plain {plain_tok_s:.1f} tok/s "
                   f"({spec_tok_s / plain_tok_s:.2f}x){same}]", err=True)
