"""Which kernel library a program loads: this installation's build or one the user names, never a
bundle's own copy unless its bytes are a known build or the user asks for it.

Loading a library runs its code, and a bundle's checksum proves only that the bundle is intact:
whoever swapped the library can rewrite the manifest beside it. The end-to-end cases run in a
fresh process (the kernels register once per process) with a library whose constructor writes a
marker file, so "its code ran" is observable.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edgecpm.checksum import file_sha256
from edgecpm.errors import KernelLibraryError
from edgecpm.export.pte_manifest import LIBRARY_NAME
from edgecpm.export.targets import load_target
from edgecpm.runtime.kernel_library import TRUST_BUNDLED_ENV, choose_library

BUILT = load_target("host").kernel_dir / LIBRARY_NAME
needs_built = pytest.mark.skipif(not BUILT.is_file(), reason=f"{BUILT} not built (make kernels)")

_CONSTRUCTOR = r"""
#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void ran(void) {
  const char* path = getenv("EDGECPM_TEST_MARKER");
  FILE* f = path ? fopen(path, "w") : NULL;
  if (f) fclose(f);
}
"""


@pytest.fixture
def foreign_library(tmp_path) -> Path:
    """A shared library that is not ours and announces, by a marker file, that its code ran."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build the stand-in library")
    src, lib = tmp_path / "foreign.c", tmp_path / "foreign" / LIBRARY_NAME
    lib.parent.mkdir()
    src.write_text(_CONSTRUCTOR)
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(lib), str(src)], check=True, timeout=60)
    return lib


@pytest.fixture
def no_host_library(monkeypatch, tmp_path):
    monkeypatch.setenv("EDGECPM_KERNELS_LIB", str(tmp_path / "nowhere" / LIBRARY_NAME))
    monkeypatch.delenv(TRUST_BUNDLED_ENV, raising=False)


def test_the_host_library_wins_over_a_bundled_copy(monkeypatch, tmp_path):
    host, bundled = tmp_path / "host.so", tmp_path / "bundle" / LIBRARY_NAME
    host.write_bytes(b"host build")
    bundled.parent.mkdir()
    bundled.write_bytes(b"something else")
    monkeypatch.setenv("EDGECPM_KERNELS_LIB", str(host))
    monkeypatch.delenv(TRUST_BUNDLED_ENV, raising=False)
    assert choose_library(bundled) == host


def test_an_unknown_bundled_copy_is_refused_without_the_opt_in(no_host_library, tmp_path):
    bundled = tmp_path / "bundle" / LIBRARY_NAME
    bundled.parent.mkdir()
    bundled.write_bytes(b"not a build of this installation")
    with pytest.raises(KernelLibraryError, match=f"{bundled} is not a build of this installation, so it is "
                                                 f"not loaded .*set {TRUST_BUNDLED_ENV}=1"):
        choose_library(bundled)
    assert choose_library(bundled, trust_bundled=True) == bundled


def test_the_opt_in_comes_from_the_environment(no_host_library, monkeypatch, tmp_path):
    bundled = tmp_path / LIBRARY_NAME
    bundled.write_bytes(b"the user vouches for it")
    monkeypatch.setenv(TRUST_BUNDLED_ENV, "1")
    assert choose_library(bundled) == bundled
    monkeypatch.setenv(TRUST_BUNDLED_ENV, "0")
    with pytest.raises(KernelLibraryError, match="not a build of this installation"):
        choose_library(bundled)


@needs_built
def test_a_bundled_copy_of_a_known_build_loads_that_build(no_host_library, tmp_path):
    bundled = tmp_path / LIBRARY_NAME
    shutil.copy(BUILT, bundled)
    chosen = choose_library(bundled)
    assert chosen != bundled and file_sha256(chosen) == file_sha256(bundled)


def test_no_bundled_copy_names_the_missing_host_library(no_host_library, tmp_path):
    assert choose_library(None) == tmp_path / "nowhere" / LIBRARY_NAME  # load_library names it


@needs_built
def test_a_library_that_is_not_ours_is_one_line(foreign_library, tmp_path):
    text = tmp_path / "text" / LIBRARY_NAME
    text.parent.mkdir()
    text.write_text("not a shared library")
    code = ("from edgecpm.runtime.kernel_library import load_library\n"
            "from edgecpm.errors import KernelLibraryError\n"
            "import sys\n"
            "for path in sys.argv[1:]:\n"
            "    try:\n        load_library(path)\n    except KernelLibraryError as e:\n        print('error:', e)\n")
    res = subprocess.run([sys.executable, "-c", code, str(text), str(foreign_library)], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    errors = [line for line in res.stdout.splitlines() if line.startswith("error:")]
    assert len(errors) == 2, res.stdout
    assert f"{text}: cannot be loaded" in errors[0] and "rebuild with `make kernels`" in errors[0]
    assert f"{foreign_library}: not an edgecpm kernel library" in errors[1]


@pytest.mark.slow
@needs_built
def test_a_swapped_library_in_a_bundle_does_not_run(tiny_bundles, foreign_library, tmp_path):
    bundle = shutil.copytree(tiny_bundles["float"][1], tmp_path / "b")
    shutil.copy(foreign_library, bundle / LIBRARY_NAME)
    # Whoever swaps the library can rewrite the checksum beside it.
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["sha256"][LIBRARY_NAME] = file_sha256(bundle / LIBRARY_NAME)
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    marker = tmp_path / "constructor-ran"
    code = ("import torch, sys\nfrom edgecpm.runtime.pte import PteModel\n"
            "trust = sys.argv[2] == 'trust'\n"
            "try:\n    m = PteModel(sys.argv[1], trust_bundled_kernels=trust or None)\n"
            "    print('logits', tuple(m(torch.tensor([[1, 2]]), torch.arange(2)).shape))\n"
            "except Exception as e:\n    print(type(e).__name__, e)\n")
    env = {"EDGECPM_TEST_MARKER": str(marker), "EDGECPM_KERNELS_LIB": str(BUILT)}

    res = subprocess.run([sys.executable, "-c", code, str(bundle), "default"], capture_output=True, text=True,
                         timeout=300, env={**os.environ, **env})
    assert "logits (1, 2," in res.stdout, res.stdout + res.stderr[-2000:]  # ran on the host build
    assert not marker.exists()

    # Asked for explicitly, the bundle's copy is what loads (and is named for what it is).
    res = subprocess.run([sys.executable, "-c", code, str(bundle), "trust"], capture_output=True, text=True,
                         timeout=300, env={**os.environ, **env})
    assert marker.exists()
    assert f"KernelLibraryError {bundle / LIBRARY_NAME}: not an edgecpm kernel library" in res.stdout, \
        res.stdout + res.stderr[-2000:]
