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
    offset: int = 0   # absolute byte offset of the data in the file
    nbytes: int = 0


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
        entries[name] = TensorEntry(name, dtype, shape, path, 8 + n + begin, want)
    return entries


_TORCH_DTYPES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
                 "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8",
                 "BOOL": "bool", "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2"}


def read_tensor(entry: TensorEntry, f=None):
    """One tensor, read with plain file reads into memory it owns.

    Not a memory map on purpose: pages of a mapped checkpoint count as resident for as long as
    the mapping lives, so streaming a 16 GB checkpoint through mmap looks (and, under memory
    pressure, behaves) like holding all of it. ``f``: an already open binary file, or None.
    """
    import torch

    if entry.dtype not in _TORCH_DTYPES:
        raise CheckpointError(f"{entry.file}: tensor {entry.name!r} has dtype {entry.dtype}, "
                              "which edgecpm does not read")
    buf = torch.empty(entry.nbytes, dtype=torch.uint8)
    own = f is None
    f = f or entry.file.open("rb")
    try:
        f.seek(entry.offset)
        got = f.readinto(memoryview(buf.numpy()))
    finally:
        if own:
            f.close()
    if got != entry.nbytes:
        raise CheckpointError(f"{entry.file}: truncated while reading tensor {entry.name!r}; {_HINT}")
    return buf.view(getattr(torch, _TORCH_DTYPES[entry.dtype])).reshape(entry.shape)


def iter_tensors(entries):
    """(entry, tensor) for each entry, one tensor in memory at a time, each file opened once."""
    by_file: dict[Path, list[TensorEntry]] = {}
    for e in entries:
        by_file.setdefault(e.file, []).append(e)
    for path, group in by_file.items():
        with path.open("rb") as f:
            for e in sorted(group, key=lambda e: e.offset):
                yield e, read_tensor(e, f)
