"""``deploy``, ``generate`` and ``bench`` with ``--device adb://SERIAL`` against the fake adb
(tests/device/fake_adb.py: a folder plays the phone, aarch64 programs run under qemu). No phone
was in CI: this checks edgecpm's side of adb (the calls, the paths, the glibc loader start, the
thermal readings), not a phone's."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from edgecpm.cli.app import app
from edgecpm.runtime.device_runtime import GLIBC_LOADER
from tests.device.test_ssh_device import PROMPT_TEXT, eager_continuation

PHONE_DIR = "/data/local/tmp/edgecpm"


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_deploy_and_generate_on_the_phone(phone, aarch64_bundle):
    url = f"adb://{phone.serial}"
    r = invoke("deploy", aarch64_bundle, "--device", url)
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith(f"device {url}: fake-adb phone")
    assert (f"run it there: env GLIBC_TUNABLES=glibc.pthread.rseq=0 {PHONE_DIR}/runtime/aarch64/{GLIBC_LOADER} "
            f"--library-path {PHONE_DIR}/runtime/aarch64 {PHONE_DIR}/runtime/aarch64/edgecpm-runner --model "
            f"'{PHONE_DIR}/bundles/tiny float/model.pte'") in r.stdout
    runtime = phone.root / PHONE_DIR.lstrip("/") / "runtime" / "aarch64"
    assert (runtime / GLIBC_LOADER).is_file() and (runtime / "libc.so.6").is_file()
    assert (phone.root / PHONE_DIR.lstrip("/") / "bundles" / "tiny float" / "model.pte").is_file()
    pushes = [c for c in phone.calls() if c[2] == "push"]
    assert pushes and all(c[:2] == ["-s", phone.serial] for c in pushes)
    # The runner starts through the glibc loader it was pushed with (a phone has no glibc).
    gen = invoke("generate", aarch64_bundle, "--device", url, "-p", PROMPT_TEXT, "-n", 8)
    assert gen.exit_code == 0, gen.output
    assert gen.stdout == PROMPT_TEXT + eager_continuation(aarch64_bundle, 8)[0] + "\n"
    shells = [c[3] for c in phone.calls() if c[2] == "shell" and "--prompt-ids" in c[3]]
    assert f"{PHONE_DIR}/runtime/aarch64/{GLIBC_LOADER} --library-path" in shells[-1]
    assert "GLIBC_TUNABLES=glibc.pthread.rseq=0" in shells[-1]


def test_bench_records_thermal_status_and_flags_throttling(phone, aarch64_bundle, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_PHONE_THERMAL_STATUS", "2")
    out = tmp_path / "bench.json"
    r = invoke("bench", aarch64_bundle, "--device", f"adb://{phone.serial}", "--n-prompt", 4, "-n", 4, "-r", 1,
               "--format", "json", "-o", out)
    assert r.exit_code == 0, r.output
    report = json.loads(out.read_text())
    device = report["device"]
    assert device["model"] == "fake-adb phone" and device["android"] == {"release": "14", "abi": "arm64-v8a"}
    assert (device["thermal_before"], device["thermal_after"], device["throttling"]) == (2, 2, True)
    assert any("throttled" in w for w in device["warnings"])
    assert [row["test"] for row in report["rows"]] == ["pp4", "tg4"]
    assert all(row["power_w"] is None for row in report["rows"])   # phones have no tegrastats
    assert report["copy_bandwidth"]["copy_gb_s"] > 0 and all(row["bw_pct"] for row in report["rows"][1:])


def test_an_unknown_serial_is_one_line(phone, aarch64_bundle):
    r = invoke("deploy", aarch64_bundle, "--device", "adb://NOPE42")
    assert r.exit_code == 2
    assert r.output.strip() == ("error: adb://NOPE42: no such device (adb: device 'NOPE42' not found); check the "
                                "serial with `adb devices`")


def test_a_phone_of_another_abi_is_refused_before_copying(phone, aarch64_bundle, monkeypatch):
    monkeypatch.setenv("FAKE_PHONE_ABI", "x86_64")
    r = invoke("deploy", aarch64_bundle, "--device", f"adb://{phone.serial}")
    assert r.exit_code == 2 and f"adb://{phone.serial} is a x86_64 device, but" in r.output
    assert not any(c[2] == "push" for c in phone.calls())


def test_bench_thread_list_on_the_phone_with_a_plot(phone, aarch64_bundle, tmp_path):
    out, plot = tmp_path / "bench.json", tmp_path / "speed.png"
    r = invoke("bench", aarch64_bundle, "--device", f"adb://{phone.serial}", "--n-prompt", 4, "-n", 4, "-r", 1,
               "--threads", "1,2", "--format", "json", "-o", out, "--plot", plot)
    assert r.exit_code == 0, r.output
    report = json.loads(out.read_text())
    assert [(row["threads"], row["test"]) for row in report["rows"]] == [(1, "pp4"), (1, "tg4"), (2, "pp4"),
                                                                          (2, "tg4")]
    assert report["device"]["model"] == "fake-adb phone"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
