"""Benchmark-only inputs at a real model shape: a random-weight EAGLE draft head, random FR-Spec
id lists, and programs exported with the speculative methods, all cached in one directory.

Every file made here is named ``random-…``: the weights and id lists are random, so they price
the draft/verify mechanism (its cost depends on shapes, not values) and must never be used to
judge a draft's quality.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import torch

from edgecpm.checkpoint.contents import load_config
from edgecpm.speculative.draft import EagleDraft, save_draft
from edgecpm.speculative.frspec import FrequencyList, save_frspec

NOTE = "random weights: for pricing speculative decoding only, never for acceptance or quality"


def random_draft(model_dir: Path, out_dir: Path, seed: int = 0) -> Path:
    """A draft head of the EAGLE shape for the base model in ``model_dir`` (one decoder layer at
    its hidden size, heads and intermediate size), random weights; reused when present."""
    if (out_dir / "draft.json").is_file():
        return out_dir
    cfg = load_config(model_dir)
    torch.manual_seed(seed)
    draft = EagleDraft(cfg)
    with torch.no_grad():
        for p in draft.parameters():
            if p.dim() > 1:   # small weights keep the random activations finite over a run
                p.normal_(0.0, cfg.initializer_range / max(1.0, p.shape[1] ** 0.5))
    save_draft(draft, out_dir, extra={"note": NOTE, "seed": seed})
    return out_dir


def random_frspec(vocab_size: int, size: int, out: Path, keep: tuple[int, ...] = (), seed: int = 0) -> Path:
    """``size`` random ids of the vocabulary (``keep``, the EOS ids, always in), as an FR-Spec file."""
    if out.is_file():
        return out
    g = torch.Generator().manual_seed(seed)
    rest = [i for i in torch.randperm(vocab_size, generator=g).tolist() if i not in set(keep)]
    ids = list(dict.fromkeys(keep)) + rest[: size - len(set(keep))]
    save_frspec(FrequencyList(ids=torch.tensor(ids, dtype=torch.long), counts=torch.zeros(len(ids), dtype=torch.long),
                              vocab_size=vocab_size, coverage=0.0), out)
    return out


def spec_program(model_dir: Path, draft_dir: Path, frspec: Path | None, draft_quant: str, out: Path,
                 max_seq_len: int, say: Callable[[str], None] = lambda _m: None) -> Path:
    """``model_dir`` exported with the ``verify``/``draft`` methods into ``out``; exported once and
    reused while its inputs are the same (``bench-inputs.json`` records them)."""
    from edgecpm.export.pte import export_pte
    from edgecpm.export.spec_methods import METHODS
    from edgecpm.speculative.export_methods import draft_methods

    want = {"model": str(Path(model_dir).resolve()), "draft": str(Path(draft_dir).resolve()),
            "frspec": None if frspec is None else str(Path(frspec).resolve()),
            "draft_quant": draft_quant, "max_seq_len": max_seq_len, "methods": list(METHODS)}
    stamp = out / "bench-inputs.json"
    if stamp.is_file() and json.loads(stamp.read_text()) == want:
        return out
    say(f"exporting {out} (minutes at 0.5B shapes)")
    export_pte(model_dir, out, max_seq_len=max_seq_len, overwrite=True,
               speculative=draft_methods(draft_dir, frspec, draft_quant))
    stamp.write_text(json.dumps(want))
    return out
