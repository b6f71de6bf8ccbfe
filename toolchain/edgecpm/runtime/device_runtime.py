"""The files a device needs to run a bundle with the native runner, and the command that starts it.

A Linux device (``ssh://``, a Jetson) gets ``edgecpm-runner``, ``libedgecpm_kernels.so`` and the
ExecuTorch runtime libraries the runner links (its NEEDED entries, ``RUNNER_LIBRARIES``); its
own glibc does the rest, and ``LD_LIBRARY_PATH`` points at the folder (ahead of the build paths
baked into the runner's RUNPATH). A phone (``adb://``) has no glibc, so it also gets the aarch64
glibc loader and libraries, and the runner is started through that loader
(``ld-linux-aarch64.so.1 --library-path DIR edgecpm-runner``, as android_demo does; see
/work/shared/design/ANDROID.md), with glibc's rseq registration off (outside some Android
seccomp allow-lists).

Beside the runner goes ``edgecpm_copy_bandwidth`` (``edgecpm bench`` sets the device's decode
rows against its memcpy bandwidth); the aarch64 build is linked statically, so it starts on a phone
without the loader.
"""

from __future__ import annotations

import importlib.util
import shlex
from pathlib import Path

from edgecpm.errors import DeviceError
from edgecpm.export.pte_manifest import LIBRARY_NAME
from edgecpm.export.targets import REPO_ROOT, load_target

RUNNER = "edgecpm-runner"
COPY_BANDWIDTH = "edgecpm_copy_bandwidth"
# The runner's NEEDED ExecuTorch libraries (tests/device/test_device_runtime.py reads them back
# from the built runner with readelf).
RUNNER_LIBRARIES = ("libexecutorch.so", "libexecutorch_kernels_optimized.so", "libexecutorch_backend_xnnpack.so",
                    "libexecutorch_threadpool.so")
GLIBC_AARCH64 = Path("/usr/aarch64-linux-gnu/lib")
GLIBC_LOADER = "ld-linux-aarch64.so.1"
# The glibc libraries the runner and the ExecuTorch libraries link (glibc 2.34+ keeps stub
# libdl/libpthread for older binaries, which the wheel's libraries still name).
GLIBC_LIBRARIES = (GLIBC_LOADER, "libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "libdl.so.2",
                   "libpthread.so.0")
ANDROID_ENV = {"GLIBC_TUNABLES": "glibc.pthread.rseq=0"}


def executorch_lib_dir(arch: str) -> Path:
    """Where the ExecuTorch runtime libraries for ``arch`` are: the aarch64 wheel unpacked by
    ``make kernels-aarch64``, or this machine's installed wheel."""
    if arch == "aarch64":
        return REPO_ROOT / "build" / "executorch-aarch64" / "executorch" / "lib"
    spec = importlib.util.find_spec("executorch")
    if spec is None or not spec.submodule_search_locations:
        raise DeviceError("executorch is not installed here: its runtime libraries travel with the runner")
    return Path(list(spec.submodule_search_locations)[0]) / "lib"


def runtime_files(arch: str, android: bool, native_arch: str) -> dict[str, Path]:
    """name on the device → local file, for a device of CPU ``arch``; ``native_arch`` is this
    machine's (whose runner is the host build)."""
    if arch == native_arch:
        target, make = load_target("host"), "make kernels"
    elif arch == "aarch64":
        target, make = load_target("jetson"), "make kernels-aarch64"
    else:
        raise DeviceError(f"no runner is built for {arch} devices here (only {native_arch} and aarch64)")
    files = {RUNNER: target.kernel_dir / RUNNER, LIBRARY_NAME: target.kernel_dir / LIBRARY_NAME,
             COPY_BANDWIDTH: target.kernel_dir / COPY_BANDWIDTH}
    files.update({name: executorch_lib_dir(arch) / name for name in RUNNER_LIBRARIES})
    if android:
        if arch != "aarch64":
            raise DeviceError(f"phones run aarch64 programs; this bundle is for {arch}: export with --target android")
        files.update({name: GLIBC_AARCH64 / name for name in GLIBC_LIBRARIES})
    for name, path in files.items():
        if not path.is_file():
            hint = "apt-get install libc6-dev-arm64-cross" if path.parent == GLIBC_AARCH64 else f"run `{make}`"
            raise DeviceError(f"{path} is missing ({name} goes to the device with the runner); {hint}")
    return files


def launch_command(folder: str, android: bool, prefix: str = "") -> tuple[list[str], dict[str, str]]:
    """(argv, environment) that start the runner from the device folder ``folder``. ``prefix``:
    the device's EDGECPM_RUNNER_PREFIX (a wrapper such as ``taskset -c 4-7``, or qemu on a
    rehearsal machine), split into words."""
    wrap = shlex.split(prefix)
    if android:
        return [*wrap, f"{folder}/{GLIBC_LOADER}", "--library-path", folder, f"{folder}/{RUNNER}"], dict(ANDROID_ENV)
    return [*wrap, f"{folder}/{RUNNER}"], {"LD_LIBRARY_PATH": folder}


def copy_bandwidth_command(folder: str, prefix: str = "") -> list[str]:
    """argv that starts the copy bandwidth program from the device folder ``folder`` (through the
    device's EDGECPM_RUNNER_PREFIX, like the runner)."""
    return [*shlex.split(prefix), f"{folder}/{COPY_BANDWIDTH}"]
