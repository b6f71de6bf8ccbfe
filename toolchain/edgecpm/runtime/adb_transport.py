"""``adb://SERIAL[/folder]``: an Android phone through the ``adb`` client (``adb devices`` lists
serials; a network device's serial is ``host:port``).

Commands go through ``adb -s SERIAL shell`` (which returns the command's exit status since
Android 7), files through ``adb push`` / ``adb pull``. The folder defaults to
``/data/local/tmp/edgecpm``: the one place the shell user may both write and execute.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

from edgecpm.errors import DeviceError
from edgecpm.runtime.remote_transport import RemoteTransport

ADB_ENV = "EDGECPM_ADB"          # another adb executable (a platform-tools download, say)
DEFAULT_ROOT = "/data/local/tmp/edgecpm"

# adb's own failures: a piece of its message → what it means, what to do.
_FAILURES = [
    ("not found", "no such device ({msg}); check the serial with `adb devices`"),
    ("no devices", "no device connected ({msg}); plug it in and enable USB debugging"),
    ("unauthorized", "the device has not authorized this computer ({msg}); accept the prompt on the phone"),
    ("offline", "the device is offline ({msg}); reconnect it"),
    ("more than one device", "several devices are connected ({msg}); name one: adb://SERIAL"),
    ("Connection refused", "cannot reach the adb server or device ({msg})"),
    ("cannot connect", "cannot reach the adb server or device ({msg})"),
    ("protocol fault", "the connection to the device dropped ({msg})"),
    ("error: closed", "the connection to the device dropped ({msg})"),
    ("device disconnected", "the connection to the device dropped ({msg})"),
]


class AdbTransport(RemoteTransport):
    def __init__(self, url: str):
        rest = url[len("adb://"):]
        serial, _, folder = rest.partition("/")
        if not url.startswith("adb://") or not serial:
            raise DeviceError(f"--device {url}: expected adb://SERIAL[/folder] (serials: `adb devices`)")
        self.serial = unquote(serial)
        self.name = f"adb://{self.serial}"
        self.root = "/" + unquote(folder) if folder else DEFAULT_ROOT
        self._adb = os.environ.get(ADB_ENV) or shutil.which("adb")
        if self._adb is None:
            raise DeviceError(f"--device {url}: the adb client is not installed (apt-get install adb, or Android's "
                              f"platform-tools; {ADB_ENV}=PATH names one)")
        self._base = [self._adb, "-s", self.serial]

    def _client_argv(self, command: str) -> list[str]:
        return [*self._base, "shell", command]

    def _explain(self, status: int, stderr: str) -> str | None:
        if status == 0:
            return None
        # adb prints its own failures as "adb: ..." or "error: ..."; a command's stderr is its own.
        own = [l.strip() for l in stderr.splitlines() if l.startswith(("adb: ", "error: "))]
        if not own:
            return None
        for needle, meaning in _FAILURES:
            if any(needle in line for line in own):
                return meaning.format(msg=own[-1])
        return f"adb failed ({own[-1]})"

    def _upload(self, local: Path, remote: str, timeout: float) -> None:
        self._copy([*self._base, "push", str(local), remote], f"copy {local.name}", timeout)

    def _download(self, remote: str, local: Path, timeout: float) -> None:
        self._copy([*self._base, "pull", remote, str(local)], f"fetch {remote}", timeout)

    def _copy(self, argv: list[str], what: str, timeout: float) -> None:
        try:
            done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise DeviceError(f"{self.name}: {what} timed out after {timeout:g} s; check the cable, or pass a longer "
                              "--timeout") from None
        if done.returncode == 0:
            return
        message = (done.stderr + done.stdout).strip()
        if "No space left" in message:
            raise DeviceError(f"{self.name}: out of disk while trying to {what}; free space on the phone; "
                              "nothing was kept")
        reason = self._explain(done.returncode, message) or (message.splitlines() or ["no message"])[-1]
        raise DeviceError(f"{self.name}: could not {what}: {reason}")
