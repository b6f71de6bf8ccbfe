"""``SshTransport`` against a real sshd on 127.0.0.1 (tests/device/sshd.py): quoting, pushes by
checksum, and each fault as one line with nothing half-written here or left running there."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from edgecpm.errors import DeviceError
from edgecpm.runtime.remote_transport import PART
from edgecpm.runtime.ssh_transport import SshTransport
from tests.device.sshd import free_port

NASTY = "it's a \"name\"; touch PWNED $(touch PWNED2) `touch PWNED3` & |x"


def unique_sleep(seconds: int) -> str:
    """A sleep duration no other test run on this machine uses at the same moment (this process's
    id in its decimals), so that machine-wide process searches find only this run's command."""
    return f"{seconds}.{os.getpid() % 1000:03d}"


def processes_with(marker: str) -> list[int]:
    """Processes of this machine (the loopback device) whose command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def gone(marker: str, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while processes_with(marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_arguments_reach_the_device_as_typed(sshd, ssh_config, tmp_path):
    t = SshTransport(sshd.url(sshd.plain_port))
    done = t.run(["printf", "%s\\n", NASTY, "two words", ";", "$HOME"], env={"NAME": NASTY})
    assert done.returncode == 0 and done.stdout.splitlines() == [NASTY, "two words", ";", "$HOME"]
    assert t.run(["sh", "-c", 'printf %s "$NAME"'], env={"NAME": NASTY}).stdout == NASTY
    assert not list(Path.home().glob("PWNED*")) and not list(Path("/").glob("PWNED*"))


def test_sync_copies_only_what_changed_into_a_folder_with_an_awkward_name(sshd, ssh_config, tmp_path):
    folder = tmp_path / "device" / NASTY
    t = SshTransport(sshd.url(sshd.plain_port, folder))
    local = tmp_path / "local"
    local.mkdir()
    (local / "a b.bin").write_bytes(b"a" * 1000)
    (local / NASTY).write_bytes(b"n" * 10)
    run = local / "tool"
    run.write_text("#!/bin/sh\necho ran\n")
    run.chmod(0o755)
    files = {"a b.bin": local / "a b.bin", NASTY: local / NASTY, "tool": run}
    first = t.sync(files, t.root)
    assert sorted(first.copied) == sorted(files) and first.bytes_sent == 1010 + run.stat().st_size
    assert (folder / NASTY).read_bytes() == b"n" * 10 and os.access(folder / "tool", os.X_OK)
    assert t.run([f"{t.root}/tool"]).stdout == "ran\n"
    (local / "a b.bin").write_bytes(b"b" * 1000)
    (folder / "stale").write_text("left by an older deploy")
    second = t.sync(files, t.root)
    assert second.copied == ["a b.bin"] and sorted(second.unchanged) == sorted([NASTY, "tool"])
    assert (folder / "a b.bin").read_bytes() == b"b" * 1000 and not (folder / "stale").exists()
    assert not list(folder.glob(PART + "*"))


def test_push_and_pull_a_single_file(sshd, ssh_config, tmp_path):
    t = SshTransport(sshd.url(sshd.plain_port, tmp_path / "dev"))
    (tmp_path / "x.json").write_text('{"a": 1}')
    remote = t.push(tmp_path / "x.json")
    assert remote == f"{tmp_path}/dev/files/x.json"
    assert t.pull(remote, tmp_path / "back.json").read_text() == '{"a": 1}'
    with pytest.raises(DeviceError, match="could not fetch"):
        t.pull(f"{tmp_path}/dev/nothing", tmp_path / "none.json")
    assert not (tmp_path / "none.json").exists() and not list(tmp_path.glob(".none.json.*"))


def test_connection_refused(sshd, ssh_config):
    with pytest.raises(DeviceError, match=r"^ssh://.*:\d+: connection refused: nothing listens on that port"):
        SshTransport(sshd.url(free_port())).shell("true")


def test_authentication_failure(sshd, monkeypatch):
    monkeypatch.setenv("EDGECPM_SSH_CONFIG", str(sshd.write_client_config("stranger_key")))
    with pytest.raises(DeviceError, match=r"authentication failed \(.*Permission denied.*\); check the user"):
        SshTransport(sshd.url(sshd.plain_port)).shell("true")


def test_a_host_that_never_answers_times_out(sshd, ssh_config):
    # Accepts the TCP connection and says nothing: ssh's ConnectTimeout covers the handshake.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        t = SshTransport(f"ssh://127.0.0.1:{silent.getsockname()[1]}", connect_timeout=2)
        start = time.monotonic()
        with pytest.raises(DeviceError, match="timed out connecting"):
            t.shell("true")
        assert time.monotonic() - start < 20


def test_a_command_past_its_timeout_is_stopped_on_the_device(sshd, ssh_config):
    t = SshTransport(sshd.url(sshd.plain_port))
    duration = unique_sleep(31)
    with pytest.raises(DeviceError, match=r"sleep timed out after 1 s; stopped it on the device"):
        t.run(["sleep", duration], timeout=1)
    assert gone(f"sleep {duration}")


def test_ctrl_c_stops_the_command_on_the_device(sshd, ssh_config):
    t = SshTransport(sshd.url(sshd.plain_port))
    duration = unique_sleep(33)

    def interrupt():
        deadline = time.monotonic() + 20
        while not processes_with(f"sleep {duration}") and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGINT)

    # A process started in the background by a non-interactive shell inherits SIGINT ignored (POSIX),
    # and Python then installs no KeyboardInterrupt handler: the test sets Python's own for itself.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        threading.Thread(target=interrupt).start()
        with pytest.raises(KeyboardInterrupt):
            t.run(["sleep", duration], timeout=60)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert gone(f"sleep {duration}", within=10)


def test_a_dropped_connection_is_one_line_and_the_command_is_stopped(sshd, ssh_config):
    t = SshTransport(sshd.url(sshd.plain_port))
    before = set(sshd.session_pids())
    duration = unique_sleep(32)

    def drop():
        deadline = time.monotonic() + 20
        while not processes_with(f"sleep {duration}") and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)   # the command's id reaches the client just after it starts
        for pid in set(sshd.session_pids()) - before:
            os.kill(pid, 9)

    dropper = threading.Thread(target=drop)
    dropper.start()
    with pytest.raises(DeviceError, match=r"the connection dropped while sleep ran \(.*\); stopped it on the device"):
        t.run(["sleep", duration], timeout=60)
    dropper.join()
    assert gone(f"sleep {duration}")


def test_out_of_disk_is_refused_before_copying(sshd, ssh_config, tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(small)]).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root or CAP_SYS_ADMIN)")
    try:
        t = SshTransport(sshd.url(sshd.plain_port, small / "edgecpm"))
        big = tmp_path / "model.pte"
        big.write_bytes(os.urandom(1 << 20))
        with pytest.raises(DeviceError, match=r"out of disk: .* needs 1\.0 MiB for 1 file\(s\) and has 0\.\d MiB "
                                              r"free; .*nothing was copied"):
            t.sync({"model.pte": big}, t.root)
        assert list((small / "edgecpm").iterdir()) == []
        # A copy that runs out of room mid-way (the free space went between the check and the
        # copy) is one line too, and leaves no partial file.
        with pytest.raises(DeviceError, match=r"out of disk while trying to copy model\.pte \(.*No space left"):
            t._upload(big, f"{t.root}/{PART}0", 60)
        assert list((small / "edgecpm").iterdir()) == []
    finally:
        subprocess.run(["umount", str(small)], check=True)
