"""Quiet by default: third-party warnings and ExecuTorch's native start-up lines are hidden unless -v."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

from edgecpm import quiet

EDGECPM = Path(sys.executable).parent / "edgecpm"
THIRD_PARTY_NOISE = ("Failed to load", "cpuinfo_utils", "Warning", "warnings.warn", "is deprecated")


@pytest.fixture
def restore_quiet(monkeypatch):
    monkeypatch.setattr(quiet, "_verbose", True)
    yield
    for name in quiet.THIRD_PARTY_LOGGERS:
        logging.getLogger(name).removeFilter(quiet._errors_only)


def test_third_party_warnings_are_hidden_and_ours_are_not(restore_quiet):
    with warnings.catch_warnings(record=True) as seen:
        quiet.configure(verbose=False)
        warnings.warn_explicit("old api", FutureWarning, "x.py", 1, module="torch.utils._pytree")
        warnings.warn_explicit("buffer mutation", UserWarning, "y.py", 1, module="executorch.exir.emit")
        warnings.warn_explicit("ours", UserWarning, "z.py", 1, module="edgecpm.export.pte")
    assert [str(w.message) for w in seen] == ["ours"]


def test_third_party_log_warnings_are_hidden_but_errors_show(restore_quiet, caplog):
    quiet.configure(verbose=False)
    with caplog.at_level(logging.WARNING):
        logging.getLogger("torchao").warning("Failed to load _C_mxfp8.so")
        logging.getLogger("torch.utils._pytree").warning("Enum subclass")
        logging.getLogger("torchao").error("a real failure")
    assert [r.getMessage() for r in caplog.records] == ["a real failure"]


NATIVE = textwrap.dedent("""
    import os, sys
    from edgecpm import quiet
    quiet.configure(verbose={verbose})
    with quiet.native_stderr_filtered():
        os.write(2, b"[cpuinfo_utils.cpp:71] Reading file /sys/devices/soc0/image_version\\n")
        os.write(2, b"a real native error\\n")
""")


@pytest.mark.parametrize("verbose", [False, True])
def test_native_runtime_lines_are_filtered_unless_verbose(verbose):
    res = subprocess.run([sys.executable, "-c", NATIVE.format(verbose=verbose)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    noise = ["[cpuinfo_utils.cpp:71] Reading file /sys/devices/soc0/image_version\n"] if verbose else []
    assert res.stderr == "".join(noise + ["a real native error\n"])


def _generate(bundle: Path, *global_opts: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(EDGECPM), *global_opts, "generate", str(bundle), "-p", "def", "-n", "2"],
                          capture_output=True, text=True, timeout=300)


def test_generate_on_a_program_prints_no_third_party_lines_unless_verbose(tiny_bundles):
    _, bundle = tiny_bundles["float"]
    quiet_run = _generate(bundle)
    assert quiet_run.returncode == 0, quiet_run.stderr
    assert not [line for line in quiet_run.stderr.splitlines() if any(n in line for n in THIRD_PARTY_NOISE)], \
        quiet_run.stderr
    loud = _generate(bundle, "-v")
    assert loud.returncode == 0, loud.stderr
    assert "cpuinfo_utils" in loud.stderr  # the filter, not luck, is what hid them
    assert quiet_run.stdout == loud.stdout
