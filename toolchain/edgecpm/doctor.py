"""``edgecpm doctor``: the versions that matter, each checked against what edgecpm expects, then the
devices it can reach and what each lacks (``runtime.device_check``)."""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version

from edgecpm.torch_env import EXECUTORCH_PIN, TORCH_PIN


def _version(pkg: str) -> str | None:
    try:
        return version(pkg)
    except PackageNotFoundError:
        return None


def report(devices: list[str] = (), timeout: float | None = None) -> str:
    """``devices``: URLs to check besides EDGECPM_DEVICES' and adb's; ``timeout``: seconds each
    device may take to answer."""
    return "\n".join([_host_table(), "", device_table(devices, timeout)])


def _host_table() -> str:
    rows = [("python", platform.python_version(), "3.11"),
            ("torch", _version("torch"), TORCH_PIN),
            ("executorch", _version("executorch"), EXECUTORCH_PIN)]
    for pkg in ("safetensors", "tokenizers", "sentencepiece", "gguf", "triton"):
        rows.append((pkg, _version(pkg), "any"))
    lines = ["| component | found | wanted | ok |", "| --- | --- | --- | --- |"]
    for name, got, want in rows:
        ok = got is not None and (want == "any" or got.split("+")[0].startswith(want))
        lines.append(f"| {name} | {got or 'missing'} | {want} | {'yes' if ok else 'NO'} |")
    from edgecpm.embedded import MODELS

    for name, path in MODELS.items():
        ok = (path / "model.safetensors").is_file()
        lines.append(f"| embedded model {name} | {path} | present | {'yes' if ok else 'NO'} |")
    lines.append(f"| cpu threads | {os.cpu_count()} | | |")
    lines += _kernel_rows()
    return "\n".join(lines)


def _kernel_rows() -> list[str]:
    """The C++ kernel libraries per target (built or not) and the ISA the host one runs with."""
    import shutil

    from edgecpm.export.pte_manifest import LIBRARY_NAME
    from edgecpm.export.targets import load_target, target_names

    rows = []
    for name in target_names():
        t = load_target(name)
        path = t.kernel_dir / LIBRARY_NAME
        rows.append(f"| kernels for --target {name} ({t.machine}) | {path if path.is_file() else 'not built'} | "
                    f"{t.kernel_build} | {'yes' if path.is_file() else 'NO'} |")
    host = load_target("host").kernel_dir / LIBRARY_NAME
    if host.is_file() and _version("executorch"):
        try:
            from edgecpm.runtime.kernel_library import kernel_isa, load_library

            lib = load_library(host)
            isa = f"{kernel_isa(lib)} (available: {lib.edgecpm_kernels_available().decode()})"
        except Exception as e:  # doctor reports, it does not stop at the first problem
            isa = f"cannot load: {e}"
        rows.append(f"| kernel ISA here | {isa} | best available | yes |")
    qemu = shutil.which("qemu-aarch64")
    rows.append(f"| qemu-aarch64 (runs aarch64 builds here) | {qemu or 'missing'} | any | {'yes' if qemu else 'NO'} |")
    return rows


def device_table(named: list[str], timeout: float | None = None) -> str:
    """One row per device: reached or why not, its CPU, the runner built here for it, its free
    disk and state, and what it lacks, each with the fix."""
    from edgecpm.runtime.device_check import (DEVICES_ENV, PROBE_TIMEOUT_S, adb_client, adb_devices, check_device,
                                              device_urls)
    from edgecpm.errors import DeviceError

    timeout = timeout or PROBE_TIMEOUT_S
    checks, adb = [], []
    try:
        adb = adb_devices(timeout)
    except DeviceError as e:
        checks.append(("adb", "NO", "", "", "", "", str(e)))
    urls = device_urls(list(named), os.environ.get(DEVICES_ENV), adb)
    if not urls and not checks:
        where = "adb lists none" if adb_client() else "adb is not installed"
        return (f"devices: none to check ({where}); name them with `edgecpm doctor --device URL` or "
                f"{DEVICES_ENV}=ssh://host,adb://SERIAL")
    states = {f"adb://{serial}": state for serial, state in adb}
    for url in urls:
        c = check_device(url, timeout, states.get(url, "device"))
        checks.append((c.url, "yes" if c.reached else "NO", c.arch or "", c.runner or ("" if not c.reached else
                                                                                     "not built"),
                       "" if c.free_mib is None else f"{c.free_mib / 1024:.1f} GiB", c.state,
                       "; ".join(c.lacks) or "nothing"))
    lines = ["| device | reached | arch | runner for it | free disk | state | lacks (fix) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |" for cells in checks]
    return "\n".join(lines)
