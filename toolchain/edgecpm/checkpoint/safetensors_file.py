"""Check a safetensors file's header against its size before any tensor is read.

The format: an 8-byte little-endian header length N, N bytes of JSON
(``{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}``), then the
data; offsets are relative to the end of the header. We check every entry ourselves so that a
truncated download or a corrupt header gives a message naming the file and the tensor, rather
than a bare ``SafetensorError`` from deep inside a load.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path

from edgecpm.errors import CheckpointError

DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2,
               "I8": 1, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1, "U16": 2, "U32": 4, "U64": 8}
_MAX_HEADER = 100 * 1024 * 1024  # the safetensors library's own limit
_HINT = "re-download or re-create the checkpoint (for a random one: edgecpm init --preset NAME --random -o DIR)"


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: str
    shape: tuple[int, ...]
    file: Path


def read_header(path: str | Path) -> dict[str, TensorEntry]:
    """All tensors of one file, after checking that every byte range lies inside it."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise CheckpointError(f"{path}: truncated ({size} bytes, not even a header length); {_HINT}")
        (n,) = struct.unpack("<Q", head)
        if n > _MAX_HEADER or 8 + n > size:
            raise CheckpointError(
                f"{path}: corrupt or truncated header (claims {n} header bytes, file has {size}); {_HINT}")
        raw = f.read(n)
    try:
        header = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise CheckpointError(f"{path}: header is not valid JSON (corrupt file); {_HINT}") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: header is not a JSON object (corrupt file); {_HINT}")
    data_size = size - 8 - n
    entries = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (begin, end) = info["dtype"], tuple(info["shape"]), info["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise CheckpointError(f"{path}: tensor {name!r} has a malformed header entry; {_HINT}") from None
        if dtype not in DTYPE_BYTES:
            raise CheckpointError(f"{path}: tensor {name!r} has unknown dtype {dtype!r}")
        want = math.prod(shape) * DTYPE_BYTES[dtype]
        if end - begin != want or begin < 0:
            raise CheckpointError(
                f"{path}: tensor {name!r} ({dtype} {list(shape)}) spans {end - begin} bytes, "
                f"expected {want} (corrupt header); {_HINT}")
        if end > data_size:
            raise CheckpointError(
                f"{path}: truncated: tensor {name!r} needs data up to byte {end}, "
                f"but the file holds {data_size} data bytes; {_HINT}")
        entries[name] = TensorEntry(name, dtype, shape, path)
    return entries
