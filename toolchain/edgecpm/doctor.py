"""``edgecpm doctor``: the versions that matter, each checked against what edgecpm expects."""

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


def report() -> str:
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
