"""A real OpenSSH server on 127.0.0.1 with a throw-away configuration, as the remote device.

It listens on two ports. ``jetson_port``: a session there has the Jetson tool stand-ins
(``standins/``: tegrastats, nvpmodel, jetson_clocks) first on PATH and runs the runner through
``EDGECPM_RUNNER_PREFIX=qemu-aarch64 -L /usr/aarch64-linux-gnu``: an x86-64 box rehearsing as a
Jetson. ``plain_port``: the same machine as itself (x86-64, no prefix), for the tests where the
device's architecture must not match. Host key, authorized key and client config live in a temp
folder; nothing of the system's ssh setup is used or changed (``/run/sshd``, which sshd requires
as its privilege-separation directory, is created if missing).
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

STANDINS = Path(__file__).resolve().parent / "standins"
SSHD = Path("/usr/sbin/sshd")
QEMU_PREFIX = "qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu cortex-a76"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int, command: str | None = None) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(pid)], capture_output=True, text=True)
    rows = [line.split(None, 1) for line in out.stdout.splitlines() if line.strip()]
    return [int(p) for p, comm in rows if command is None or comm.strip() == command]


class LoopbackSshd:
    def __init__(self, root: Path):
        if not SSHD.is_file():
            raise RuntimeError(f"{SSHD} is missing: apt-get install openssh-server (see .ci/run)")
        if shutil.which("qemu-aarch64") is None:
            raise RuntimeError("qemu-aarch64 is missing: apt-get install qemu-user (see .ci/run)")
        self.root = root
        self.jetson_port, self.plain_port = free_port(), free_port()
        keygen = ["ssh-keygen", "-q", "-t", "ed25519", "-N", ""]
        for name in ("host_key", "user_key", "stranger_key"):
            subprocess.run([*keygen, "-f", str(root / name)], check=True)
        (root / "authorized_keys").write_text((root / "user_key.pub").read_text())
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        path = f"{STANDINS}:/usr/local/bin:/usr/bin:/bin"
        (root / "sshd_config").write_text(f"""ListenAddress 127.0.0.1
Port {self.jetson_port}
Port {self.plain_port}
HostKey {root / 'host_key'}
AuthorizedKeysFile {root / 'authorized_keys'}
PidFile {root / 'sshd.pid'}
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
Subsystem sftp /usr/lib/openssh/sftp-server
Match LocalPort {self.jetson_port}
  SetEnv PATH={path} EDGECPM_RUNNER_PREFIX="{QEMU_PREFIX}"
""")
        self.client_config = self.write_client_config("user_key")
        self.log = root / "sshd.log"
        self._proc = subprocess.Popen([str(SSHD), "-D", "-f", str(root / "sshd_config"), "-E", str(self.log)])
        self._wait_listening()

    def write_client_config(self, key: str) -> Path:
        """An ssh_config that logs in as this user with ``key`` and trusts this server's host key."""
        host_key = (self.root / "host_key.pub").read_text().split()
        known = self.root / "known_hosts"
        known.write_text("".join(f"[127.0.0.1]:{p} {host_key[0]} {host_key[1]}\n"
                                 for p in (self.jetson_port, self.plain_port)))
        config = self.root / f"ssh_config_{key}"
        config.write_text(f"""Host 127.0.0.1
  IdentityFile {self.root / key}
  IdentitiesOnly yes
  UserKnownHostsFile {known}
  StrictHostKeyChecking yes
  GlobalKnownHostsFile /dev/null
""")
        return config

    def url(self, port: int, folder: str | Path | None = None) -> str:
        user = getpass.getuser()
        return f"ssh://{user}@127.0.0.1:{port}" + (f"/{str(folder).lstrip('/')}" if folder else "")

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"sshd exited: {self.log.read_text() if self.log.exists() else ''}")
            try:
                with socket.create_connection(("127.0.0.1", self.jetson_port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not start listening within 10 s")

    def session_pids(self) -> list[int]:
        """The per-connection sshd processes (this server's children, and their sshd children that
        hold the connection), to drop a connection."""
        monitors = _children(self._proc.pid)
        return monitors + [pid for m in monitors for pid in _children(m, "sshd")]

    def stop(self) -> None:
        for pid in self.session_pids():
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        self._proc.terminate()
        self._proc.wait(timeout=10)
