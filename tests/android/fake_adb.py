"""A minimal fake ``adb`` for the app's end-to-end test: a folder plays the phone (no phone or
emulator here). Environment: ``FAKE_ADB_ROOT`` (the folder; the phone's ``/data/...`` and
``/sdcard/...`` are ``ROOT/data/...``, ``ROOT/sdcard/...``).

- ``install [-r] APK``: refused, with the package manager's error names, when ``apksigner
  verify`` fails (INSTALL_PARSE_FAILED_NO_CERTIFICATES), ``zipalign -c -p 4`` fails
  (INSTALL_FAILED_INVALID_APK) or there is no readable manifest (INSTALL_PARSE_FAILED_NOT_APK);
  else, as the package manager does with extractNativeLibs, the APK becomes
  ``/data/app/PKG-1/base.apk`` and its ``lib/arm64-v8a/lib*.so`` files ``/data/app/PKG-1/lib/arm64/``,
  executable.
- ``shell pm path PKG``: ``package:/data/app/PKG-1/base.apk``.
- ``push LOCAL REMOTE``: copies (folders recursively).
- ``shell COMMAND``: split as a shell would, leading NAME=VALUE words become the environment,
  phone paths are mapped into the folder, and a first word that is an aarch64 ELF file runs under
  ``qemu-aarch64`` with no sysroot (an Android shell would exec it natively): the process gets
  only what the APK carried. stdin and stdout pass through, as adb's shell protocol does.

Another worker's transport tests carry a fuller fake (tests/device/fake_adb.py); this one adds
``install``, which the app's test needs.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(os.environ["FAKE_ADB_ROOT"])
BUILD_TOOLS = Path("/usr/lib/android-sdk/build-tools/debian")
EM_AARCH64 = 183
PHONE_PREFIXES = ("/data/", "/sdcard/")


def local(remote: str) -> Path:
    return ROOT / remote.lstrip("/")


def mapped(word: str) -> str:
    return str(local(word)) if word.startswith(PHONE_PREFIXES) else word


def is_aarch64_elf(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError:
        return False
    return head[:4] == b"\x7fELF" and int.from_bytes(head[18:20], "little") == EM_AARCH64


def tool(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BUILD_TOOLS / name), *args], capture_output=True, text=True)


def install(apk: Path) -> int:
    def failure(code: str, why: str) -> int:
        print(f"Failure [{code}: {why}]")
        return 1

    badging = tool("aapt", "dump", "badging", str(apk))
    package = re.search(r"package: name='([^']+)'", badging.stdout)
    if badging.returncode != 0 or package is None:
        return failure("INSTALL_PARSE_FAILED_NOT_APK", f"{apk} has no readable AndroidManifest.xml")
    if tool("apksigner", "verify", str(apk)).returncode != 0:
        return failure("INSTALL_PARSE_FAILED_NO_CERTIFICATES", f"{apk} is not signed or its signature does not verify")
    if tool("zipalign", "-c", "-p", "4", str(apk)).returncode != 0:
        return failure("INSTALL_FAILED_INVALID_APK", f"{apk} is not zip-aligned")
    app_dir = local(f"/data/app/{package.group(1)}-1")
    shutil.rmtree(app_dir, ignore_errors=True)
    lib_dir = app_dir / "lib" / "arm64"
    lib_dir.mkdir(parents=True)
    shutil.copyfile(apk, app_dir / "base.apk")
    with zipfile.ZipFile(apk) as z:
        for name in z.namelist():
            base = name.rpartition("/")[2]
            if name.startswith("lib/arm64-v8a/") and base.startswith("lib") and base.endswith(".so"):
                (lib_dir / base).write_bytes(z.read(name))
                (lib_dir / base).chmod(0o755)
    print("Success")
    return 0


def shell(command: str) -> int:
    words = shlex.split(command)
    if words[:2] == ["pm", "path"] and len(words) == 3:
        base = local(f"/data/app/{words[2]}-1/base.apk")
        if not base.is_file():
            return 1
        print(f"package:/data/app/{words[2]}-1/base.apk")
        return 0
    env = dict(os.environ)
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = mapped(value)
    argv = [mapped(w) for w in words]
    if argv and is_aarch64_elf(argv[0]):
        argv = [shutil.which("qemu-aarch64") or "qemu-aarch64", "-cpu", "cortex-a76", *argv]
    return subprocess.run(argv, env=env).returncode


def main(args: list[str]) -> int:
    if args[:1] == ["-s"]:
        args = args[2:]
    if not args:
        print("adb: usage: install|push|shell", file=sys.stderr)
        return 1
    if args[0] == "install":
        return install(Path(args[-1]))
    if args[0] == "push" and len(args) == 3:
        src, dst = Path(args[1]), local(args[2])
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copyfile(src, dst)
        return 0
    if args[0] == "shell" and len(args) >= 2:
        return shell(" ".join(args[1:]))
    print(f"adb: unknown command {' '.join(args)}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
