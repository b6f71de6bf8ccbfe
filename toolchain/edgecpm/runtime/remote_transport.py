"""What every device transport does the same way, over whatever client reaches the device.

A subclass says how to run one shell string there (``_client_argv``), how to copy one file each
way (``_upload``, ``_download``) and which client failures mean the device was not reached
(``_explain``). On top of that this class gives:

- ``run``: the command runs in a session of its own on the device, whose id it reports first; a
  timeout, a Ctrl-C or a dropped connection stops that session there (a new connection sends the
  signals), so nothing is left running on the device. The exit status is the command's.
- ``sync``: a set of files into one device folder, copying only those whose sha256 differs from
  what is there; each lands under a temporary name and is renamed when every copy has
  succeeded, so a failed push leaves the folder's previous files and no partial ones. Files of
  the folder that are not in the set are removed (the folder is edgecpm's own).
- ``push`` / ``pull`` of single files on the same terms.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from edgecpm.checksum import file_sha256
from edgecpm.errors import DeviceError
from edgecpm.runtime.client_process import ClientProcess
from edgecpm.runtime.remote_shell import BACKGROUND, STOP, join_path, sh_command
from edgecpm.runtime.transport import Completed

PART = ".edgecpm-part-"   # temporary names of files being copied in, renamed when all arrived
DEFAULT_TIMEOUT = 600.0   # seconds for one command or one file copy, unless the caller says

# $1 = folder, then the names wanted: makes the folder, says its free KiB and its files, and the
# sha256 of the wanted ones that exist.
_PROBE = f"""dir=$1; shift
mkdir -p -- "$dir" && cd "$dir" || exit 3
rm -f ./{PART}*
echo "df $(df -Pk . 2>/dev/null | tail -n 1)"
ls -A | while IFS= read -r f; do echo "file $f"; done
for f in "$@"; do [ -f "./$f" ] && sha256sum "./$f"; done
exit 0
"""
# $1 = folder, then (part, name, mode) triples to rename (mode x: executable, as it was here),
# then "--", then names to delete.
_COMMIT = """cd "$1" || exit 3; shift
while [ "$1" != "--" ]; do
  if [ "$3" = x ]; then chmod 755 "./$1" || exit 4; else chmod 644 "./$1" || exit 4; fi
  mv -f "./$1" "./$2" || exit 4
  shift 3
done
shift
for f in "$@"; do rm -rf "./$f"; done
"""
_DISCARD = f'cd "$1" 2>/dev/null && rm -f ./{PART}*; exit 0'


@dataclass(frozen=True)
class SyncResult:
    folder: str
    copied: list[str]       # names whose bytes were sent
    unchanged: list[str]    # names already there with the same sha256
    bytes_sent: int


class RemoteTransport:
    name: str
    root: str   # the device folder edgecpm keeps its files in

    # --- what a subclass provides ---------------------------------------------------------
    def _client_argv(self, command: str) -> list[str]:
        """The local command line that runs the shell string ``command`` on the device."""
        raise NotImplementedError

    def _upload(self, local: Path, remote: str, timeout: float) -> None:
        raise NotImplementedError

    def _download(self, remote: str, local: Path, timeout: float) -> None:
        raise NotImplementedError

    def _explain(self, status: int, stderr: str) -> str | None:
        """Why the client failed to reach the device (one line with what to do), or None when
        ``status`` is the command's own."""
        raise NotImplementedError

    # --- built on those -------------------------------------------------------------------
    def shell(self, script: str, args: list[str] = (), timeout: float = DEFAULT_TIMEOUT) -> Completed:
        """Run ``script`` under ``sh`` on the device with ``args`` as $1...; a device that cannot
        be reached, or a timeout, is a DeviceError."""
        proc = ClientProcess(self._client_argv(sh_command(script, list(args))))
        try:
            status = proc.wait_or_kill(timeout)
        except subprocess.TimeoutExpired:
            raise DeviceError(f"{self.name}: no answer within {timeout:g} s; check that the device is up "
                              "and reachable, or pass a longer --timeout") from None
        reason = self._explain(status, proc.stderr)
        if reason is not None:
            raise DeviceError(f"{self.name}: {reason}")
        return Completed(status, proc.stdout, proc.stderr)

    def run(self, argv: list[str], timeout: float | None = None, on_stdout: Callable[[bytes], None] | None = None,
            env: Mapping[str, str] | None = None) -> Completed:
        words = ["env", *(f"{k}={v}" for k, v in (env or {}).items()), *map(str, argv)] if env else list(argv)
        program = Path(str(argv[0])).name
        proc = ClientProcess(self._client_argv(sh_command(BACKGROUND, words)), on_stdout)
        try:
            status = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pid = proc.await_remote_pid(5)
            proc.kill()
            raise DeviceError(f"{self.name}: {program} timed out after {timeout:g} s; "
                              f"{self._stop(pid)}; pass a longer --timeout or a smaller job") from None
        except BaseException:   # Ctrl-C: stop it there too, then let the interrupt through
            pid = proc.await_remote_pid(5)
            proc.kill()
            self._stop(pid)
            raise
        reason = self._explain(status, proc.stderr)
        if reason is not None:
            if proc.remote_pid is None:
                raise DeviceError(f"{self.name}: {reason}")
            raise DeviceError(f"{self.name}: the connection dropped while {program} ran ({reason}); "
                              f"{self._stop(proc.remote_pid)}")
        return Completed(status, proc.stdout, proc.stderr)

    def _stop(self, pid: int | None) -> str:
        """Stop the device's session ``pid``; what happened, for the message."""
        if pid is None:
            return "it had not started on the device"
        try:
            self.shell(STOP, [str(pid)], timeout=30)
        except DeviceError as e:
            return f"could not stop it on the device ({e}); it may still run there as process {pid}"
        return "stopped it on the device"

    def sync(self, files: Mapping[str, Path], folder: str, timeout: float = DEFAULT_TIMEOUT) -> SyncResult:
        """Make ``folder`` on the device hold exactly ``files`` (name there → local file)."""
        names = list(files)
        probe = self.shell(_PROBE, [folder, *names], timeout)
        if probe.returncode != 0:
            raise DeviceError(f"{self.name}: cannot create or enter {folder} ({_last_line(probe.stderr)}); "
                              "choose a writable folder in the --device URL (ssh://host/PATH)")
        free_kib, present, remote_sums = _parse_probe(probe.stdout)
        local_sums = {name: file_sha256(path) for name, path in files.items()}
        copied = [n for n in names if remote_sums.get(n) != local_sums[n]]
        need = sum(Path(files[n]).stat().st_size for n in copied)
        if free_kib is not None and need > free_kib * 1024:
            raise DeviceError(f"{self.name}: out of disk: {folder} needs {_mib(need)} for {len(copied)} file(s) and "
                              f"has {_mib(free_kib * 1024)} free; free space there or choose another folder "
                              "(ssh://host/PATH); nothing was copied")
        parts = {n: f"{PART}{i}" for i, n in enumerate(copied)}
        try:
            for n in copied:
                self._upload(Path(files[n]), join_path(folder, parts[n]), timeout)
        except BaseException:
            self._discard(folder)
            raise
        renames = [w for n in copied for w in (parts[n], n, _mode(files[n]))]
        stale = sorted(present - set(names))
        done = self.shell(_COMMIT, [folder, *renames, "--", *stale], timeout)
        if done.returncode != 0:
            self._discard(folder)
            raise DeviceError(f"{self.name}: could not put the files in place in {folder} "
                              f"({_last_line(done.stderr)})")
        return SyncResult(folder, copied, [n for n in names if n not in parts], need)

    def _discard(self, folder: str) -> None:
        try:
            self.shell(_DISCARD, [folder], timeout=60)
        except DeviceError:
            pass   # the next sync of this folder removes them first (_PROBE)

    def push(self, local: Path, dest: str | None = None) -> str:
        dest = dest or join_path(join_path(self.root, "files"), Path(local).name)
        folder, _, name = dest.rpartition("/")
        result = self._one_file(Path(local), folder or ".", name)
        return join_path(result.folder, name)

    def _one_file(self, local: Path, folder: str, name: str) -> SyncResult:
        # sync() prunes; a single push must leave the folder's other files alone.
        probe = self.shell(_PROBE, [folder, name])
        _, _, sums = _parse_probe(probe.stdout)
        if sums.get(name) == file_sha256(local):
            return SyncResult(folder, [], [name], 0)
        self._upload(local, join_path(folder, PART + "0"), DEFAULT_TIMEOUT)
        done = self.shell(_COMMIT, [folder, PART + "0", name, _mode(local), "--"])
        if done.returncode != 0:
            self._discard(folder)
            raise DeviceError(f"{self.name}: could not put {name} in place in {folder} ({_last_line(done.stderr)})")
        return SyncResult(folder, [name], [], local.stat().st_size)

    def pull(self, remote: str, local: Path, timeout: float = DEFAULT_TIMEOUT) -> Path:
        local = Path(local)
        fd, tmp = tempfile.mkstemp(prefix=f".{local.name}.", suffix=".tmp", dir=local.parent)
        os.close(fd)
        try:
            self._download(remote, Path(tmp), timeout)
            os.replace(tmp, local)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return local


def _parse_probe(stdout: str) -> tuple[int | None, set[str], dict[str, str]]:
    free_kib, present, sums = None, set(), {}
    for line in stdout.splitlines():
        if line.startswith("df "):
            fields = line.split()
            # POSIX df -P: Filesystem 1024-blocks Used Available Capacity Mounted-on
            if len(fields) >= 5 and fields[4].isdigit():
                free_kib = int(fields[4])
        elif line.startswith("file "):
            present.add(line[5:])
        elif len(line) > 68 and line[64:68] == "  ./":
            sums[line[68:]] = line[:64]
    return free_kib, present, sums


def _mode(local: Path) -> str:
    return "x" if os.access(local, os.X_OK) else "-"


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def _last_line(text: str) -> str:
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1].strip() if lines else "no message"
