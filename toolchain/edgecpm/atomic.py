"""Write outputs all-or-nothing: build in a temp sibling, then rename into place.

A crash or Ctrl-C leaves at most a ``.tmp-*`` sibling (removed on the way out), never a
half-written file or directory under the name the user asked for.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_dir(target: str | Path, overwrite: bool = False):
    """Yield a temp directory; on success it replaces ``target``."""
    target = Path(target)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} already exists; remove it or pass --force")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    try:
        yield tmp
        # mkdtemp makes 0700 and some writers 0600; the result should look like anything else
        # the user creates.
        os.chmod(tmp, 0o777 & ~_umask())
        for f in tmp.iterdir():
            if f.is_file():
                os.chmod(f, 0o666 & ~_umask())
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(target: str | Path, mode: str = "wb"):
    """Yield a temp file object; on success it replaces ``target``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{target.name}-", dir=target.parent)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
