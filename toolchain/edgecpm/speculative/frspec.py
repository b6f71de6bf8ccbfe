"""FR-Spec: the draft's LM head keeps only the rows of the N most frequent tokens (MINICPM4.md §6).

Frequencies come from tokenizing a corpus with the model's own tokenizer. The EOS ids are always
kept (a draft that cannot propose EOS never lets a reply end early), ties are broken by the
lower id, so the list is reproducible. The verifier keeps the full vocabulary: output is
unchanged, only the draft's proposals are restricted.

File: safetensors with ``ids`` (int64 [N], most frequent first, full-vocabulary ids) and
``counts`` (int64 [N]); metadata: format, version, vocab_size, size, coverage (the corpus token
share the N ids cover).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import torch

from edgecpm.errors import CheckpointError, TokenizerError, UsageError

FORMAT = "edgecpm-frspec"
VERSION = 1
_HINT = "make one with `edgecpm frspec MODEL --corpus FILE --size N -o FILE`"


@dataclass
class FrequencyList:
    ids: torch.Tensor      # int64 [N], most frequent first
    counts: torch.Tensor   # int64 [N]
    vocab_size: int
    coverage: float        # fraction of the corpus tokens whose id is in ``ids``


def count_tokens(tokenizer, texts: Iterable[str]) -> Counter:
    counts: Counter = Counter()
    for text in texts:
        counts.update(tokenizer.encode(text))
    return counts


def top_ids(counts: Counter, size: int, vocab_size: int, keep: Iterable[int] = ()) -> FrequencyList:
    """The ``size`` most frequent ids, with every id of ``keep`` (EOS) forced in."""
    keep = [k for k in dict.fromkeys(keep)]
    if not 0 < size <= vocab_size:
        raise UsageError(f"--size {size}: must be in 1..{vocab_size} (the vocabulary size)")
    if len(keep) > size:
        raise UsageError(f"--size {size} is smaller than the {len(keep)} EOS ids that must stay in")
    bad = [k for k in list(counts) + keep if not 0 <= k < vocab_size]
    if bad:
        raise TokenizerError(f"token ids {sorted(set(bad))[:5]} are outside the model's vocabulary "
                             f"(0..{vocab_size - 1}): the tokenizer does not belong to this model")
    # All ids ranked (unseen ones count 0), ties by id: a stable order even for a small corpus.
    ranked = sorted(range(vocab_size), key=lambda i: (-counts.get(i, 0), i))
    keep_set = set(keep)
    # Forced ids take the places of the least frequent ones.
    chosen = keep + [i for i in ranked if i not in keep_set][: size - len(keep)]
    chosen.sort(key=lambda i: (-counts.get(i, 0), i))
    total = sum(counts.values())
    covered = sum(counts.get(i, 0) for i in chosen)
    return FrequencyList(ids=torch.tensor(chosen, dtype=torch.long),
                         counts=torch.tensor([counts.get(i, 0) for i in chosen], dtype=torch.long),
                         vocab_size=vocab_size, coverage=covered / total if total else 0.0)


def save_frspec(freq: FrequencyList, path: str | Path) -> Path:
    from safetensors.torch import save

    from edgecpm.atomic import atomic_file

    path = Path(path)
    data = save({"ids": freq.ids, "counts": freq.counts},
                metadata={"format": FORMAT, "version": str(VERSION), "vocab_size": str(freq.vocab_size),
                          "size": str(freq.ids.numel()), "coverage": f"{freq.coverage:.6f}"})
    with atomic_file(path) as f:
        f.write(data)
    return path


def load_frspec(path: str | Path, vocab_size: int | None = None) -> FrequencyList:
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such FR-Spec file; {_HINT}")
    try:
        with safe_open(str(path), "pt") as f:
            meta = f.metadata() or {}
            ids, counts = f.get_tensor("ids"), f.get_tensor("counts")
    except (SafetensorError, OSError) as e:
        raise CheckpointError(f"{path}: not a readable FR-Spec file ({e}); {_HINT}") from None
    if meta.get("format") != FORMAT or meta.get("version") != str(VERSION):
        raise CheckpointError(f"{path}: format {meta.get('format')!r} v{meta.get('version')} is not "
                              f"{FORMAT} v{VERSION}; {_HINT}")
    try:
        file_vocab = int(meta["vocab_size"])
    except (KeyError, ValueError):
        raise CheckpointError(f"{path}: no vocabulary size in its metadata; {_HINT}") from None
    if vocab_size is not None and file_vocab != vocab_size:
        raise CheckpointError(f"{path}: made for a {file_vocab}-token vocabulary, the model has "
                              f"{vocab_size}; {_HINT}")
    return FrequencyList(ids=ids.long(), counts=counts.long(), vocab_size=file_vocab,
                         coverage=float(meta.get("coverage", 0.0)))


def head_cost(hidden: int, rows: int) -> int:
    """FLOPs of one draft LM-head row-vector product (2 per multiply-add)."""
    return 2 * hidden * rows
