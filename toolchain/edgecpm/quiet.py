"""Quiet by default: third-party warnings and native runtime logs are hidden unless ``-v``.

What a user saw before, on every command that touches ExecuTorch: torchao's "Failed to load
…_C_mxfp8….so" lines (CUDA extensions it tries on any machine), torch's pytree deprecation
notice, ~28 FutureWarning/UserWarning lines from the exporter, and five ``[cpuinfo_utils.cpp:…]``
lines from the ExecuTorch threadpool's start. None of them is about the user's input, yet they
read as failures. ``configure(verbose=False)`` (the CLI's default) mutes them; ``-v`` shows all.
Warnings raised by edgecpm itself always show.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
import warnings

# Loggers whose WARNING lines are library chatter (ERROR and above still show). torch resets the
# levels of its own loggers when it is imported, so a filter (which it keeps) does the muting.
THIRD_PARTY_LOGGERS = ("torchao", "torch", "torch.utils._pytree", "executorch")
# Lines the ExecuTorch C++ runtime writes straight to fd 2: while it starts or resizes its
# threadpool, and when edgecpm installs its abort handler over the Python bindings' (host_abort.cpp).
NATIVE_NOISE = re.compile(r"^\[cpuinfo_utils\.cpp:\d+\]|^\[platform\.cpp:\d+\] register_pal\(\) called multiple"
                          r"|^\[threadpool\.cpp:\d+\] Resetting threadpool|^I executorch:threadpool\.cpp:\d+\] Resetting")

_verbose = True  # a library user who never calls configure() keeps every message


def configure(verbose: bool) -> None:
    """Call once at start-up, before torch / executorch are imported where possible."""
    global _verbose
    _verbose = verbose
    if verbose:
        return
    for name in THIRD_PARTY_LOGGERS:
        logging.getLogger(name).addFilter(_errors_only)
    warnings.filterwarnings("ignore")
    warnings.filterwarnings("default", module=r"edgecpm(\.|$)")


def _errors_only(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.ERROR


def is_verbose() -> bool:
    return _verbose


@contextlib.contextmanager
def native_stderr_filtered():
    """Run a block with fd 2 captured; afterwards re-emit its lines except the known noise.

    A temp file, not a pipe: a block that writes more than a pipe holds would block forever.
    """
    if _verbose:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().decode(errors="replace").splitlines(keepends=True)
                    if not NATIVE_NOISE.match(line)]
            sys.stderr.write("".join(kept))
            sys.stderr.flush()


def start_executorch_threadpool() -> None:
    """Create ExecuTorch's threadpool now, under the filter, rather than at the first program call."""
    from executorch.extension.pybindings import portable_lib

    with native_stderr_filtered():
        portable_lib._threadpool_get_thread_count()
