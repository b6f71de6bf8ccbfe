"""``edgecpm doctor``'s device rows: each device it can reach, and what it lacks before a bundle can
be deployed and benchmarked there, each with its fix.

Which devices: the ``--device`` URLs given, those in ``EDGECPM_DEVICES`` (comma-separated, e.g.
``ssh://jetson,adb://R58N``), and every serial ``adb devices`` lists when adb is installed. Each
is asked once, under a short timeout (ssh's connect timeout too), for its fingerprint
(``device_info``) and the free disk of its edgecpm folder; a device that does not answer is a
row that says why, never a hang or a traceback.

What a device lacks: a runner built here for its CPU (and, for a phone, the aarch64 glibc that
travels with it: ``device_runtime.runtime_files`` decides), free disk for a bundle, locked
clocks on a Jetson, a cool phone (thermal status 0).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from dataclasses import dataclass, field

from edgecpm.errors import DeviceError
from edgecpm.runtime.adb_transport import ADB_ENV, AdbTransport
from edgecpm.runtime.deploy import device_arch
from edgecpm.runtime.device_info import fingerprint
from edgecpm.runtime.device_runtime import RUNNER, runtime_files
from edgecpm.runtime.devices import is_remote
from edgecpm.runtime.ssh_transport import SshTransport

DEVICES_ENV = "EDGECPM_DEVICES"
PROBE_TIMEOUT_S = 10.0
MIN_FREE_MIB = 1024   # the runtime (~60 MiB) and a ternary 0.5B bundle, with room to spare

# $1 = the device folder (maybe not made yet): the free KiB of the nearest folder that exists.
_FREE_DISK = """d=$1
while [ ! -d "$d" ]; do p=$(dirname -- "$d"); [ "$p" = "$d" ] && break; d=$p; done
df -Pk -- "$d" 2>/dev/null | tail -n 1
"""
# ``adb devices`` states other than "device", and what to do about them.
_ADB_STATES = {
    "unauthorized": "accept the USB debugging prompt on the phone",
    "offline": "reconnect it (unplug and plug the cable, or `adb reconnect`)",
    "no permissions": "add a udev rule for the phone, or run the adb server as a user allowed to open it",
    "recovery": "boot the phone normally",
    "bootloader": "boot the phone normally",
}


@dataclass
class DeviceCheck:
    url: str
    reached: bool
    arch: str | None = None
    runner: str | None = None        # the runner build here that deploy would send
    free_mib: float | None = None    # in the device's edgecpm folder (or its nearest parent)
    state: str = ""                  # a Jetson's power mode and clocks, a phone's thermal status
    lacks: list[str] = field(default_factory=list)   # each: what is missing; what to do


def device_urls(named: list[str], env: str | None = None, adb: list[tuple[str, str]] = ()) -> list[str]:
    """The URLs to check, in order, each once: named, then the environment's, then adb's."""
    from_env = [u.strip() for u in (env or "").split(",") if u.strip()]
    urls: list[str] = []
    for url in [*named, *from_env, *(f"adb://{serial}" for serial, _ in adb)]:
        if url not in urls:
            urls.append(url)
    return urls


def adb_client() -> str | None:
    return os.environ.get(ADB_ENV) or shutil.which("adb")


def adb_devices(timeout: float = PROBE_TIMEOUT_S) -> list[tuple[str, str]]:
    """(serial, state) for each device ``adb devices`` lists; [] without an adb client."""
    adb = adb_client()
    if adb is None:
        return []
    try:
        done = subprocess.run([adb, "devices"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DeviceError(f"`{adb} devices` gave no answer within {timeout:g} s; restart the server "
                          "(`adb kill-server`)") from None
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise DeviceError(f"`{adb} devices` failed (exit {done.returncode}: {said})")
    listed = []
    for line in done.stdout.splitlines():
        serial, tab, state = line.partition("\t")
        if tab and serial.strip():
            listed.append((serial.strip(), state.strip()))
    return listed


def check_device(url: str, timeout: float = PROBE_TIMEOUT_S, adb_state: str = "device") -> DeviceCheck:
    """One device's row. ``adb_state``: what ``adb devices`` said of it (a serial it lists as
    unauthorized or offline is not asked)."""
    if adb_state != "device":
        fix = _ADB_STATES.get(adb_state, "see `adb devices -l`")
        return DeviceCheck(url, False, lacks=[f"adb lists it as {adb_state}; {fix}"])
    try:
        transport = _open(url, timeout)
        info = fingerprint(transport, timeout)
        free_mib = _free_mib(transport, timeout)
    except DeviceError as e:
        return DeviceCheck(url, False, lacks=[_without_name(str(e), url)])
    check = DeviceCheck(url, True, arch=device_arch(info), free_mib=free_mib, state=_state(info))
    try:
        check.runner = str(runtime_files(check.arch, "android" in info, platform.machine())[RUNNER])
    except DeviceError as e:
        check.lacks.append(str(e))
    if free_mib is None:
        check.lacks.append(f"could not read the free disk of {transport.root}; check that df works there")
    elif free_mib < MIN_FREE_MIB:
        check.lacks.append(f"{free_mib:.0f} MiB free in {transport.root} (a bundle and the runtime want "
                           f"{MIN_FREE_MIB} MiB); free space there or choose another folder in the URL")
    if (info.get("thermal_status") or 0) > 0:
        check.lacks.append(f"thermal status {info['thermal_status']}: the phone throttles; let it cool (screen "
                           "off, unplugged from the charger) before benchmarking")
    check.lacks += [_without_name(w, transport.name) for w in info["warnings"]]
    return check


def _open(url: str, timeout: float):
    if not is_remote(url):
        raise DeviceError(f"{url}: not a device URL; expected ssh://[user@]host[:port][/folder] or adb://SERIAL")
    if url.startswith("ssh://"):
        return SshTransport(url, connect_timeout=timeout)
    return AdbTransport(url)


def _free_mib(transport, timeout: float) -> float | None:
    fields = transport.shell(_FREE_DISK, [transport.root], timeout=timeout).stdout.split()
    return int(fields[3]) / 1024 if len(fields) >= 4 and fields[3].isdigit() else None


def _state(info: dict) -> str:
    jetson = info.get("jetson")
    if jetson is not None:
        clocks = {True: "locked", False: "NOT locked", None: "unknown"}[jetson["clocks_locked"]]
        return f"nvpmodel {jetson['power_mode'] or 'unknown'}, clocks {clocks}"
    if "android" in info:
        status = info.get("thermal_status")
        return f"thermal status {'unknown' if status is None else status}"
    return ""


def _without_name(message: str, name: str) -> str:
    """A transport's message without the device name the row already shows."""
    for prefix in (f"{name}: ", f"--device {name}: "):
        if message.startswith(prefix):
            return message[len(prefix):]
    return message
