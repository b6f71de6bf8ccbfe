"""The (base, draft) pair ``speculative_generate`` runs, from what a user names on the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Optional


def load_spec(model, spec_arg: str, frspec: Optional[Path]):
    """(base, draft) for ``speculative_generate``: an eager model (as ``EagerBase``) and the draft
    head bound to it (with the FR-Spec subset if one is given), or an exported program's own
    ``verify``/``draft`` methods (``--spec program``; the draft and FR-Spec list were fixed at export)."""
    from edgecpm.errors import UsageError
    from edgecpm.runtime.eager import EagerBase
    from edgecpm.runtime.pte import PteModel
    from edgecpm.speculative.draft import load_draft, resolve_draft
    from edgecpm.speculative.frspec import load_frspec

    if isinstance(model, PteModel):
        exported = (model.manifest.get("speculative") or {}).get("draft")
        if spec_arg not in ("program", exported) or frspec is not None:
            raise UsageError(f"{model.dir}: an exported program drafts with the head it was exported with "
                             f"({exported or 'none'}): pass --spec program, without --frspec")
        return model.speculative()
    cfg = model.config
    dtype = model.model.norm.weight.dtype
    draft = load_draft(resolve_draft(spec_arg), cfg, dtype=dtype).bind(model)
    if frspec is not None:
        draft.set_vocab(load_frspec(frspec, cfg.vocab_size).ids)
    return EagerBase(model), draft


def spec_label(spec, draft) -> str:
    """'tree 2/10/12' or 'chain 3', with the FR-Spec size when the draft has one."""
    mode = f"tree {spec.num_iter}/{spec.topk_per_iter}/{spec.tree_size}" if spec.mode == "tree" \
        else f"chain {spec.chain_len}"
    return mode + (f", FR-Spec {draft.vocab_ids.numel()}" if draft.vocab_ids is not None else "")
