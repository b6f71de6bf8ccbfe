"""edgecpm works as an installed package, not only from its checkout: a non-editable install,
used from a folder outside the checkout, exports the embedded model and generates from the program.
The kernel library comes through the documented EDGECPM_KERNELS_LIB (an install has no build tree)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.runner.test_runner import require

HOST_LIBRARY = REPO / "build" / "kernels" / "host" / "libedgecpm_kernels.so"
CLI = "import sys; from edgecpm.cli.app import main; sys.argv[0] = 'edgecpm'; main()"


@pytest.mark.slow
def test_a_non_editable_install_exports_and_generates_outside_the_checkout(tmp_path):
    site = tmp_path / "site"
    # --no-deps: torch and executorch come from this venv; --no-build-isolation: no download.
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(site), str(REPO)], check=True, capture_output=True, timeout=600)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "EDGECPM_KERNELS_LIB": str(require(HOST_LIBRARY, "kernels"))}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *args], cwd=work, env=env, capture_output=True, text=True,
                              timeout=900)

    where = run("-c", "import edgecpm; print(edgecpm.__file__)")
    assert where.stdout.strip().startswith(str(site)), where.stdout + where.stderr  # not the checkout
    export = run("-c", CLI, "export", "tiny", "-o", "bundle")
    assert export.returncode == 0, export.stderr[-2000:]
    assert (work / "bundle" / "model.pte").is_file()
    gen = run("-c", CLI, "generate", "bundle", "-p", "Return a new list containing", "-n", "4")
    assert gen.returncode == 0, gen.stderr[-2000:]
    assert gen.stdout.startswith("Return a new list containing") and len(gen.stdout.strip()) > 28
