"""A fake ``adb`` client: a local folder plays the phone (no phone or emulator was in CI).

Environment: ``FAKE_ADB_ROOT`` (the folder; the phone's ``/data/...`` is ``ROOT/data/...``),
``FAKE_ADB_SERIAL`` (the one device it knows), ``FAKE_ADB_LOG`` (each call's arguments appended
as a JSON line, so tests can see what reached "the phone").

- ``adb -s SERIAL push LOCAL REMOTE`` / ``pull REMOTE LOCAL`` copy (mode kept, parents made, as adb).
- ``adb -s SERIAL shell COMMAND``: the command line is split as the phone's shell would split it,
  words naming ``/data/...`` are mapped into the folder, and the command runs here with the
  phone's ``getprop``/``dumpsys`` stand-ins (``phone_bin/``) first on PATH; the first word that is
  an aarch64 ELF file runs under ``qemu-aarch64`` (what binfmt_misc does on a machine that has it
  registered; an Android shell would exec it natively). The exit status is the command's, as
  adb's shell protocol returns it.
- Another serial: ``adb: device 'X' not found``, exit 1, as adb says it.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(os.environ["FAKE_ADB_ROOT"])
SERIAL = os.environ["FAKE_ADB_SERIAL"]
PHONE_BIN = Path(__file__).resolve().parent / "phone_bin"
EM_AARCH64 = 183


def local(remote: str) -> Path:
    if not remote.startswith("/"):
        raise SystemExit(f"adb: error: remote path must be absolute: {remote}")
    return ROOT / remote.lstrip("/")


def mapped(word: str) -> str:
    if word.startswith("/data/"):
        return str(local(word))
    name, eq, value = word.partition("=")
    if eq and value.startswith("/data/") and name.isidentifier():
        return f"{name}={local(value)}"
    return word


def is_aarch64_elf(word: str) -> bool:
    try:
        with open(word, "rb") as f:
            head = f.read(20)
    except OSError:
        return False
    return head[:4] == b"\x7fELF" and int.from_bytes(head[18:20], "little") == EM_AARCH64


def shell(command: str) -> int:
    words = [mapped(w) for w in shlex.split(command)]
    for i, word in enumerate(words):
        if is_aarch64_elf(word):
            words[i:i] = [shutil.which("qemu-aarch64"), "-cpu", "cortex-a76"]
            break
    env = {**os.environ, "PATH": f"{PHONE_BIN}:{os.environ['PATH']}"}
    return subprocess.run(words, cwd=ROOT, env=env).returncode


def main(argv: list[str]) -> int:
    with open(os.environ.get("FAKE_ADB_LOG", os.devnull), "a") as log:
        log.write(json.dumps(argv) + "\n")
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
        shutil.copy2(source, target)
        print(f"{source}: 1 file pushed.")
        return 0
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
