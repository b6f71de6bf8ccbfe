"""``--device`` values → a transport: ``host`` (this machine), ``ssh://...``, ``adb://...``."""

from __future__ import annotations

from edgecpm.errors import DeviceError
from edgecpm.runtime.transport import LocalTransport, Transport


def open_device(url: str) -> Transport:
    if url == "host":
        return LocalTransport()
    if url.startswith("ssh://"):
        from edgecpm.runtime.ssh_transport import SshTransport

        return SshTransport(url)
    if url.startswith("adb://"):
        from edgecpm.runtime.adb_transport import AdbTransport

        return AdbTransport(url)
    raise DeviceError(f"--device {url}: expected host, ssh://[user@]host[:port][/folder] or adb://SERIAL")


def is_remote(url: str) -> bool:
    return url.startswith(("ssh://", "adb://"))
