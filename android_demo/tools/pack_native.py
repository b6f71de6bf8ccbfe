#!/usr/bin/env python3
"""Lays out the aarch64 runner as an APK's lib/arm64-v8a/ payload.

The package manager extracts only files named lib*.so from an APK, and an app may execute files
only from the folder it extracts them to (nativeLibraryDir). The runner is a glibc program (no
Android NDK here to build a bionic one), so it travels with glibc's loader and every library it
loads, each renamed lib*.so:

  edgecpm-runner            -> libedgecpm_runner.so
  ld-linux-aarch64.so.1     -> libld_glibc.so      (started by the app: loader --library-path DIR runner)
  libc.so.6, libstdc++.so.6 -> libglibc_c.so, libglibc_stdcxx.so, ...
  libexecutorch*.so, libedgecpm_kernels.so keep their names (already lib*.so)

Every NEEDED entry naming a renamed library is rewritten (patchelf --replace-needed) and every
RPATH/RUNPATH removed: the build tree's paths mean nothing on a phone, and --library-path is the
one search path. libc's own NEEDED on the loader stays: the loader answers to its soname
(ld-linux-aarch64.so.1) whatever its file is called.

  pack_native.py --runner R --lib-dir D [--lib-dir D2 ...] --sysroot /usr/aarch64-linux-gnu/lib OUT_DIR
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

LOADER = "ld-linux-aarch64.so.1"
LOADER_FILE = "libld_glibc.so"
RUNNER_FILE = "libedgecpm_runner.so"


def packed_name(soname: str) -> str:
    """lib*.so names stay; glibc's versioned names become libglibc_<stem>.so."""
    if soname == LOADER:
        return LOADER_FILE
    if soname.endswith(".so") and soname.startswith("lib"):
        return soname
    stem = soname.split(".so")[0].removeprefix("lib").replace("+", "x")
    return f"libglibc_{stem}.so"


def needed(path: Path) -> list[str]:
    out = subprocess.run(["readelf", "-d", str(path)], check=True, capture_output=True, text=True).stdout
    return [line.split("[", 1)[1].rstrip("]") for line in out.splitlines() if "(NEEDED)" in line]


def machine(path: Path) -> str:
    out = subprocess.run(["readelf", "-h", str(path)], check=True, capture_output=True, text=True).stdout
    return next(line.split(":", 1)[1].strip() for line in out.splitlines() if "Machine:" in line)


def find(soname: str, dirs: list[Path]) -> Path:
    for d in dirs:
        if (d / soname).is_file():
            return (d / soname).resolve()
    sys.exit(f"pack_native: {soname} is needed but in none of {', '.join(map(str, dirs))}; "
             "build it (make kernels-aarch64) or install libc6-dev-arm64-cross")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runner", type=Path, required=True)
    ap.add_argument("--lib-dir", type=Path, action="append", required=True)
    ap.add_argument("--sysroot", type=Path, required=True)
    ap.add_argument("out", type=Path)
    args = ap.parse_args()
    search = [*args.lib_dir, args.sysroot]

    # The closure of NEEDED from the runner, breadth first.
    files: dict[str, Path] = {RUNNER_FILE: args.runner.resolve(), LOADER_FILE: find(LOADER, [args.sysroot])}
    todo = [args.runner.resolve()]
    while todo:
        for soname in needed(todo.pop()):
            name = packed_name(soname)
            if name not in files:
                files[name] = find(soname, search)
                todo.append(files[name])

    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    for name, src in sorted(files.items()):
        if machine(src) != "AArch64":
            sys.exit(f"pack_native: {src} is built for {machine(src)}, not AArch64")
        dst = args.out / name
        shutil.copyfile(src, dst)
        dst.chmod(0o755)
        replace = [arg for soname in needed(dst) if soname != LOADER and packed_name(soname) != soname
                   for arg in ("--replace-needed", soname, packed_name(soname))]
        if name != LOADER_FILE:
            subprocess.run(["patchelf", "--remove-rpath", *replace, str(dst)], check=True)
    total = sum(p.stat().st_size for p in args.out.iterdir())
    print(f"pack_native: {len(files)} files, {total / 2**20:.1f} MiB in {args.out}")


if __name__ == "__main__":
    main()
