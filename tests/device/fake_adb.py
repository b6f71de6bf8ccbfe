"""A fake ``adb`` client: a local folder plays the phone (no phone or emulator was in CI).

Environment: ``FAKE_ADB_ROOT`` (the folder; the phone's ``/data/...`` and ``/sdcard/...`` are
``ROOT/data/...`` and ``ROOT/sdcard/...``),
``FAKE_ADB_SERIAL`` (the one device it knows), ``FAKE_ADB_LOG`` (each call's arguments appended
as a JSON line, so tests can see what reached "the phone").

- ``adb -s SERIAL push LOCAL REMOTE`` / ``pull REMOTE LOCAL`` copy (mode kept, parents made, a
  folder recursively, as adb).
- ``adb -s SERIAL install [-r] APK`` (the Android app's test): refused with the package manager's
  error names when ``aapt`` finds no manifest (INSTALL_PARSE_FAILED_NOT_APK), ``apksigner verify``
  fails (INSTALL_PARSE_FAILED_NO_CERTIFICATES) or ``zipalign -c -p 4`` fails
  (INSTALL_FAILED_INVALID_APK); else, as the package manager does with extractNativeLibs, the APK
  becomes ``/data/app/PKG-1/base.apk`` and its ``lib/arm64-v8a/lib*.so`` files, executable,
  ``/data/app/PKG-1/lib/arm64/``; ``shell pm path PKG`` then answers ``package:.../base.apk``.
- ``adb -s SERIAL shell COMMAND``: the command line is split as the phone's shell would split it,
  leading NAME=VALUE words become the environment, words naming phone paths are mapped into the
  folder, and the command runs here with the
  phone's ``getprop``/``dumpsys`` stand-ins (``phone_bin/``) first on PATH; the first word that is
  an aarch64 ELF file runs under ``qemu-aarch64`` (what binfmt_misc does on a machine that has it
  registered; an Android shell would exec it natively). The exit status is the command's, as
  adb's shell protocol returns it.
- ``adb devices``: the one serial, in state ``FAKE_ADB_STATE`` (default ``device``).
- Another serial: ``adb: device 'X' not found``, exit 1, as adb says it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(os.environ["FAKE_ADB_ROOT"])
SERIAL = os.environ["FAKE_ADB_SERIAL"]
PHONE_BIN = Path(__file__).resolve().parent / "phone_bin"
EM_AARCH64 = 183
PHONE_PREFIXES = ("/data/", "/sdcard/")
BUILD_TOOLS = Path("/usr/lib/android-sdk/build-tools/debian")


def local(remote: str) -> Path:
    if not remote.startswith("/"):
        raise SystemExit(f"adb: error: remote path must be absolute: {remote}")
    return ROOT / remote.lstrip("/")


def mapped(word: str) -> str:
    if word.startswith(PHONE_PREFIXES):
        return str(local(word))
    name, eq, value = word.partition("=")
    if eq and value.startswith(PHONE_PREFIXES) and name.isidentifier():
        return f"{name}={local(value)}"
    return word


def is_aarch64_elf(word: str) -> bool:
    try:
        with open(word, "rb") as f:
            head = f.read(20)
    except OSError:
        return False
    return head[:4] == b"\x7fELF" and int.from_bytes(head[18:20], "little") == EM_AARCH64


def install(apk: Path) -> int:
    def failure(code: str, why: str) -> int:
        print(f"Failure [{code}: {why}]")
        return 1

    def tool(name: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BUILD_TOOLS / name), *args, str(apk)], capture_output=True, text=True)

    badging = tool("aapt", "dump", "badging")
    package = re.search(r"package: name='([^']+)'", badging.stdout)
    if badging.returncode != 0 or package is None:
        return failure("INSTALL_PARSE_FAILED_NOT_APK", f"{apk} has no readable AndroidManifest.xml")
    if tool("apksigner", "verify").returncode != 0:
        return failure("INSTALL_PARSE_FAILED_NO_CERTIFICATES", f"{apk} is not signed or its signature does not verify")
    if tool("zipalign", "-c", "-p", "4").returncode != 0:
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
        if not local(f"/data/app/{words[2]}-1/base.apk").is_file():
            return 1
        print(f"package:/data/app/{words[2]}-1/base.apk")
        return 0
    env = {**os.environ, "PATH": f"{PHONE_BIN}:{os.environ['PATH']}"}
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = mapped(value)
    words = [mapped(w) for w in words]
    for i, word in enumerate(words):
        if is_aarch64_elf(word):
            words[i:i] = [shutil.which("qemu-aarch64"), "-cpu", "cortex-a76"]
            break
    return subprocess.run(words, cwd=ROOT, env=env).returncode


def main(argv: list[str]) -> int:
    with open(os.environ.get("FAKE_ADB_LOG", os.devnull), "a") as log:
        log.write(json.dumps(argv) + "\n")
    if argv == ["devices"]:
        print(f"List of devices attached\n{SERIAL}\t{os.environ.get('FAKE_ADB_STATE', 'device')}\n")
        return 0
    if len(argv) < 3 or argv[0] != "-s":
        print("adb: fake adb takes -s SERIAL COMMAND ...", file=sys.stderr)
        return 1
    serial, command, args = argv[1], argv[2], argv[3:]
    if serial != SERIAL:
        print(f"adb: device '{serial}' not found", file=sys.stderr)
        return 1
    if command == "shell":
        return shell(" ".join(args))
    if command == "push":
        source, target = Path(args[0]), local(args[1])
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
            print(f"{source}/: {sum(1 for p in target.rglob('*') if p.is_file())} files pushed.")
            return 0
        shutil.copy2(source, target)
        print(f"{source}: 1 file pushed.")
        return 0
    if command == "install":
        return install(Path(args[-1]))
    if command == "pull":
        source = local(args[0])
        if not source.is_file():
            print(f"adb: error: failed to stat remote object '{args[0]}': No such file or directory", file=sys.stderr)
            return 1
        shutil.copy2(source, args[1])
        print(f"{args[0]}: 1 file pulled.")
        return 0
    print(f"adb: fake adb has no '{command}'", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
