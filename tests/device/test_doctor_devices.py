"""``edgecpm doctor``'s device rows against the loopback sshd (a rehearsal Jetson), the fake adb
phone, and a port nothing listens on: every device is a row, reached or with the reason, and what
it lacks comes with its fix."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from edgecpm.cli.app import app
from edgecpm.runtime.device_check import MIN_FREE_MIB, check_device, device_urls
from tests.device.sshd import free_port


def invoke(*args, env=None):
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


def device_rows(output: str) -> dict[str, list[str]]:
    """The device table's rows by URL: [reached, arch, runner, free disk, state, lacks]."""
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) == 7 and cells[0].startswith(("ssh://", "adb://")):
            rows[cells[0]] = cells[1:]
    return rows


@pytest.fixture
def no_adb(monkeypatch, tmp_path):
    """An adb that lists no phone (a machine's real adb would list its own)."""
    adb = tmp_path / "empty-adb"
    adb.write_text("#!/bin/sh\nprintf 'List of devices attached\\n\\n'\n")
    adb.chmod(0o755)
    monkeypatch.setenv("EDGECPM_ADB", str(adb))
    monkeypatch.delenv("EDGECPM_DEVICES", raising=False)


def test_jetson_unreachable_and_env_devices_are_rows(sshd, ssh_config, no_adb, tmp_path):
    jetson = sshd.url(sshd.jetson_port, tmp_path / "edgecpm")
    refused = f"ssh://127.0.0.1:{free_port()}"
    r = invoke("doctor", "--device", jetson, "--timeout", 5, env={"EDGECPM_DEVICES": f"{refused},{jetson}"})
    assert r.exit_code == 0, r.output
    rows = device_rows(r.stdout)
    assert list(rows) == [jetson, refused]   # the flag's first, then the environment's not yet named
    reached, arch, runner, free, state, lacks = rows[jetson]
    assert reached == "yes" and arch == os.uname().machine and runner.endswith("edgecpm-runner")
    assert free.endswith("GiB") and state == "nvpmodel MAXN (0), clocks NOT locked"
    assert "sudo jetson_clocks" in lacks and "EDGECPM_RUNNER_PREFIX" in lacks
    assert rows[refused][0] == "NO" and "connection refused" in rows[refused][5]
    assert "Traceback" not in r.output


def test_phone_listed_by_adb(phone, monkeypatch):
    monkeypatch.delenv("EDGECPM_DEVICES", raising=False)
    monkeypatch.setenv("FAKE_PHONE_THERMAL_STATUS", "3")
    r = invoke("doctor")
    assert r.exit_code == 0, r.output
    reached, arch, runner, free, state, lacks = device_rows(r.stdout)[f"adb://{phone.serial}"]
    assert (reached, arch, state) == ("yes", "aarch64", "thermal status 3")
    assert runner.endswith("aarch64/edgecpm-runner")
    assert "the phone throttles; let it cool" in lacks
    assert ["devices"] in phone.calls()


def test_phone_adb_has_not_authorized(phone, monkeypatch):
    monkeypatch.setenv("FAKE_ADB_STATE", "unauthorized")
    row = device_rows(invoke("doctor").stdout)[f"adb://{phone.serial}"]
    assert row[0] == "NO" and "accept the USB debugging prompt" in row[5]
    assert not any(c[2:3] == ["shell"] for c in phone.calls())   # not asked: adb says it cannot be


def test_low_free_disk_and_a_missing_runner_are_named(phone, monkeypatch):
    from edgecpm.runtime import device_check

    monkeypatch.setattr(device_check, "MIN_FREE_MIB", 10**12)
    monkeypatch.setattr(device_check, "runtime_files", lambda *a: (_ for _ in ()).throw(
        device_check.DeviceError("build/kernels/aarch64/edgecpm-runner is missing; run `make kernels-aarch64`")))
    c = check_device(f"adb://{phone.serial}", 10)
    assert c.reached and c.runner is None and c.free_mib > 0
    assert any("make kernels-aarch64" in lack for lack in c.lacks)
    assert any("MiB free in /data/local/tmp/edgecpm" in lack and "free space there" in lack for lack in c.lacks)
    assert MIN_FREE_MIB == 1024


def test_no_devices_says_how_to_name_them(no_adb, monkeypatch):
    r = invoke("doctor")
    assert r.exit_code == 0 and "devices: none to check (adb lists none)" in r.stdout
    assert "EDGECPM_DEVICES=" in r.stdout
    from edgecpm.runtime import device_check

    monkeypatch.setattr(device_check, "adb_client", lambda: None)
    assert "devices: none to check (adb is not installed)" in invoke("doctor").stdout


def test_device_urls_in_order_each_once():
    assert device_urls(["ssh://a", "adb://X"], " ssh://b, ssh://a ,", [("X", "device"), ("Y", "offline")]) == \
        ["ssh://a", "adb://X", "ssh://b", "adb://Y"]


def test_a_device_flag_that_is_not_a_url_is_refused(no_adb):
    r = invoke("doctor", "--device", "jetson")
    assert r.exit_code != 0 and "--device jetson: doctor checks remote devices" in r.output
    assert "Traceback" not in r.output


def test_a_device_that_never_answers_is_a_row_within_the_timeout(ssh_config, no_adb):
    import socket
    import time

    with socket.socket() as silent:   # accepts connections (the kernel's backlog), never speaks
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"ssh://127.0.0.1:{silent.getsockname()[1]}"
        start = time.monotonic()
        r = invoke("doctor", "--device", url, "--timeout", 2)
        elapsed = time.monotonic() - start
    assert r.exit_code == 0, r.output
    reached, *_, lacks = device_rows(r.stdout)[url]
    assert reached == "NO" and ("timed out" in lacks or "no answer within 2 s" in lacks)
    assert elapsed < 20
