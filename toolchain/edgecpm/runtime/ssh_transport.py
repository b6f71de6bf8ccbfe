"""``ssh://[user@]host[:port][/folder]``: a Linux device (a Jetson) through the system's ``ssh``.

The user's own ssh setup applies: ``~/.ssh/config`` (host aliases, ``IdentityFile``, jump hosts),
keys and the agent, known_hosts. ``EDGECPM_SSH_CONFIG`` names another config file (``ssh -F``).
edgecpm adds ``BatchMode=yes`` (never a password prompt: a missing key is an error, not a hang),
a connect timeout and keep-alives (a dead link is noticed in ~15 s). Files travel through the
same ``ssh`` (``cat`` into a temporary name), so there is no second tool whose path quoting
differs. The URL's path is the device folder (``ssh://host/opt/edgecpm``; ``ssh://host/~/dir``
inside the home); without one it is ``~/.edgecpm``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

from edgecpm.errors import DeviceError
from edgecpm.runtime.remote_shell import sh_command
from edgecpm.runtime.remote_transport import RemoteTransport

SSH_CONFIG_ENV = "EDGECPM_SSH_CONFIG"
CONNECT_TIMEOUT_S = 10

# ssh's own failures (exit status 255): a piece of its message → what it means, what to do.
_FAILURES = [
    ("Connection refused", "connection refused: nothing listens on that port; check the host and port, and that "
                           "sshd runs on the device"),
    ("Permission denied", "authentication failed ({msg}); check the user, and that your key is in the device's "
                          "authorized_keys (ssh-copy-id)"),
    ("Too many authentication failures", "authentication failed ({msg}); check the user and key"),
    ("Host key verification failed", "host key verification failed; check the host, or update known_hosts"),
    ("Could not resolve hostname", "unknown host ({msg}); check the name, or add it to ~/.ssh/config"),
    ("timed out", "timed out connecting ({msg}); check that the device is on and reachable"),
    ("No route to host", "no route to host ({msg}); check the network"),
    ("Network is unreachable", "network unreachable ({msg}); check the network"),
    ("closed by remote host", "connection closed by the device ({msg})"),
    ("Connection closed", "connection closed by the device ({msg})"),
    ("Connection reset", "connection reset ({msg})"),
    ("Broken pipe", "connection lost ({msg})"),
]


class SshTransport(RemoteTransport):
    def __init__(self, url: str, connect_timeout: float = CONNECT_TIMEOUT_S):
        parts = urlsplit(url)
        if parts.scheme != "ssh" or not parts.hostname:
            raise DeviceError(f"--device {url}: expected ssh://[user@]host[:port][/folder]")
        try:
            port = parts.port
        except ValueError:
            raise DeviceError(f"--device {url}: the port is not a number from 1 to 65535") from None
        self.name = f"ssh://{parts.netloc}"
        self.root = _folder(unquote(parts.path))
        self._ssh = shutil.which("ssh")
        if self._ssh is None:
            raise DeviceError(f"--device {url}: the ssh client is not installed (apt-get install openssh-client)")
        options = ["-o", "BatchMode=yes", "-o", f"ConnectTimeout={max(1, round(connect_timeout))}",
                   "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3", "-o", "LogLevel=ERROR"]
        config = os.environ.get(SSH_CONFIG_ENV)
        if config:
            if not Path(config).is_file():
                raise DeviceError(f"{SSH_CONFIG_ENV}={config}: no such file; point it at an ssh_config file or "
                                  "unset it")
            options = ["-F", config, *options]
        if port is not None:
            options += ["-p", str(port)]
        if parts.username:
            options += ["-l", unquote(parts.username)]
        self._base = [self._ssh, *options, "--", parts.hostname]

    def _client_argv(self, command: str) -> list[str]:
        return [*self._base, command]

    def _explain(self, status: int, stderr: str) -> str | None:
        if status != 255:
            return None
        if not stderr.strip():
            return "the connection ended (ssh exit 255 without a message)"
        msg = _last_line(stderr)
        for needle, meaning in _FAILURES:
            if needle in stderr:
                return meaning.format(msg=msg)
        return f"ssh failed ({msg})"

    def _upload(self, local: Path, remote: str, timeout: float) -> None:
        # $1 is the target: the name travels as a quoted word, the bytes on stdin.
        self._copy([*self._base, sh_command('cat > "$1" || { rm -f "$1"; exit 1; }', [remote])], local, None,
                   timeout, f"copy {local.name}")

    def _download(self, remote: str, local: Path, timeout: float) -> None:
        self._copy([*self._base, sh_command('cat "$1"', [remote])], None, local, timeout, f"fetch {remote}")

    def _copy(self, argv: list[str], source: Path | None, target: Path | None, timeout: float, what: str) -> None:
        with open(source if source else os.devnull, "rb") as stdin, open(target if target else os.devnull, "wb") as out:
            try:
                done = subprocess.run(argv, stdin=stdin, stdout=out, stderr=subprocess.PIPE, timeout=timeout)
            except subprocess.TimeoutExpired:
                raise DeviceError(f"{self.name}: {what} timed out after {timeout:g} s; check the link, or pass a "
                                  "longer --timeout") from None
        stderr = done.stderr.decode(errors="replace")
        if done.returncode == 0:
            return
        if "No space left" in stderr:
            raise DeviceError(f"{self.name}: out of disk while trying to {what} ({_last_line(stderr)}); free space "
                              "on the device or choose another folder (ssh://host/PATH); nothing was kept")
        reason = self._explain(done.returncode, stderr) or _last_line(stderr)
        raise DeviceError(f"{self.name}: could not {what}: {reason}")


def _folder(path: str) -> str:
    """The URL's path as the device folder: absolute as written (``ssh://host/data/edgecpm``), in
    the login's home after ``/~/`` (``ssh://host/~/models``), ``~/.edgecpm`` when there is none."""
    if path in ("", "/", "/~", "/~/"):
        return ".edgecpm"
    return path[3:] if path.startswith("/~/") else path


def _last_line(text: str) -> str:
    lines = [l.strip() for l in text.strip().splitlines() if l.strip()]
    return lines[-1] if lines else "no message"
