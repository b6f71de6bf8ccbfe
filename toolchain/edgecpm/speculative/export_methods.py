"""The speculative-decoding methods ``edgecpm export --draft`` adds to a program.

``export_pte`` loads the base model and lowers it; it knows no draft head. What to add is handed
to it as ``speculative=draft_methods(DRAFT, FRSPEC)``: a function of the loaded base model that
loads the draft head, binds it to that model and returns the ``verify`` / ``draft`` programs
(``edgecpm.export.spec_methods``) with the manifest's ``speculative`` entry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch

from edgecpm.checksum import file_sha256
from edgecpm.errors import ConfigError
from edgecpm.export.spec_chunk import SPEC_CHUNK
from edgecpm.export.spec_methods import METHODS, spec_programs
from edgecpm.speculative.draft import WEIGHTS, load_draft, resolve_draft
from edgecpm.speculative.draft_quant import DRAFT_SCHEMES, quantize_draft
from edgecpm.speculative.frspec import load_frspec


def draft_methods(draft_arg: str | Path | None, frspec: str | Path | None = None,
                  draft_quant: str = "fp32") -> Callable | None:
    """``export_pte``'s ``speculative`` argument for a draft head (DRAFT_DIR or 'tiny-draft') and
    an optional FR-Spec id list; None without a draft. ``draft_quant`` stores the draft's own
    linears as int8 or int4 (``draft_quant.py``: what a float draft costs per call at 0.5B)."""
    if draft_quant not in DRAFT_SCHEMES:
        raise ConfigError(f"--draft-quant {draft_quant}: choose one of {', '.join(DRAFT_SCHEMES)}")
    if draft_arg is None:
        if frspec is not None:
            raise ConfigError("--frspec restricts a draft head's LM head: pass --draft DRAFT_DIR with it")
        return None

    def build(model, max_seq_len: int, say=lambda _msg: None):
        path = resolve_draft(draft_arg)
        draft = load_draft(path, model.config, dtype=torch.float32)
        quantize_draft(draft, draft_quant)
        draft.bind(model)
        ids = None
        if frspec is not None:
            ids = load_frspec(frspec, model.config.vocab_size).ids
            draft.set_vocab(ids)
        say(f"torch.export of the speculative methods verify + draft (draft {path}"
            f"{f', FR-Spec {ids.numel()} ids' if ids is not None else ''})")
        weights = path / WEIGHTS if path.is_dir() else path
        info = {"methods": list(METHODS), "draft": str(draft_arg), "draft_sha256": file_sha256(weights),
                "draft_quant": draft_quant,
                "chunk": min(SPEC_CHUNK, max_seq_len),
                "draft_vocab_ids": None if ids is None else ids.tolist()}
        return spec_programs(model, draft, max_seq_len), info

    return build
