"""``draft_vocab.bin``: the FR-Spec ids a program's draft head scores, for the C++ runner.

Draft logit column i proposes full-vocabulary token ``ids[i]``. Format (little-endian)::

    magic   8 bytes  b"ECPMDVB1"   (the trailing digit is the format version)
    count   u32      number of ids
    count × i64      the ids, each in [0, vocab_size)

The magic and count let a reader refuse a file that is something else, of another version, or
truncated, before it trusts a single id.
"""

from __future__ import annotations

import struct
from pathlib import Path

from edgecpm.errors import CheckpointError

MAGIC = b"ECPMDVB1"
_HEADER = struct.Struct("<8sI")


def draft_vocab_bin_bytes(ids: list[int]) -> bytes:
    return _HEADER.pack(MAGIC, len(ids)) + struct.pack(f"<{len(ids)}q", *ids)


def write_draft_vocab_bin(path: Path, ids: list[int]) -> None:
    path.write_bytes(draft_vocab_bin_bytes(ids))


def read_draft_vocab_bin(path: Path) -> list[int]:
    data = Path(path).read_bytes()
    if len(data) < _HEADER.size or data[:8] != MAGIC:
        raise CheckpointError(f"{path}: not a draft_vocab.bin of this edgecpm (no {MAGIC.decode()} header); "
                              "re-run `edgecpm export --draft --frspec`")
    (count,) = struct.unpack_from("<I", data, 8)
    if len(data) != _HEADER.size + 8 * count:
        raise CheckpointError(f"{path}: its header counts {count} ids but it holds {len(data) - _HEADER.size} "
                              "bytes of them; re-run `edgecpm export --draft --frspec`")
    return list(struct.unpack_from(f"<{count}q", data, _HEADER.size))
