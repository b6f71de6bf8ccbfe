"""``edgecpm deploy``, ``generate --device ssh://…`` and ``bench --device ssh://…`` end to end:
the loopback sshd plays a Jetson (its tool stand-ins on PATH, the aarch64 runner under qemu
through EDGECPM_RUNNER_PREFIX), and the runner's tokens must be the eager model's."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import torch
from typer.testing import CliRunner

from edgecpm.checkpoint.loader import load_model
from edgecpm.checkpoint.locate import resolve_model
from edgecpm.cli.app import app
from edgecpm.tokenizer.tokenizer import load_tokenizer
from tests.conftest import GREEDY_PROMPT, greedy_reference
from tests.device.test_ssh_transport import gone, processes_with
from tests.runner.test_runner import AARCH64_RUNNER

PROMPT_TEXT = "Raise ValueError if the"   # GREEDY_PROMPT's text
N = 24


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def jetson(sshd, tmp_path_factory):
    """The rehearsal Jetson's URL, with a device folder shared by this module's tests."""
    return sshd.url(sshd.jetson_port, tmp_path_factory.mktemp("jetson") / "edgecpm")


def test_deploy_copies_once_then_only_what_changed(jetson, ssh_config, aarch64_bundle):
    first = invoke("deploy", aarch64_bundle, "--device", jetson)
    assert first.exit_code == 0, first.output
    assert "runtime/aarch64: 7 file(s) copied" in first.stdout   # runner, kernels, copy bandwidth, 4 ExecuTorch libs
    assert "bundles/tiny float: 5 file(s) copied" in first.stdout
    again = invoke("deploy", aarch64_bundle, "--device", jetson)
    assert again.exit_code == 0, again.output
    assert again.stdout.count("0 file(s) copied") == 2
    assert "Jetson clocks are not locked" in again.stdout and "nvpmodel MAXN (0)" in again.stdout


def eager_continuation(bundle, n: int) -> tuple[str, int]:
    """The eager tiny model's greedy continuation of PROMPT_TEXT (text, token count)."""
    tok = load_tokenizer(bundle)
    assert tok.encode(PROMPT_TEXT, bos=True) == GREEDY_PROMPT
    tokens = greedy_reference(load_model(resolve_model("tiny"), dtype=torch.float32, max_seq_len=96),
                              GREEDY_PROMPT, n)
    return tok.decode([t for t in tokens if t not in tok.eos_ids]), len(tokens)


def test_generate_streams_the_eager_models_text(jetson, ssh_config, aarch64_bundle):
    text, count = eager_continuation(aarch64_bundle, N)
    r = invoke("generate", aarch64_bundle, "--device", jetson, "-p", PROMPT_TEXT, "-n", N, "--stats")
    assert r.exit_code == 0, r.output
    assert r.stdout == PROMPT_TEXT + text + "\n"
    assert f"generated {count} tok" in r.output


def test_bench_records_the_device_and_its_power(jetson, ssh_config, aarch64_bundle, tmp_path):
    out = tmp_path / "bench.json"
    r = invoke("bench", aarch64_bundle, "--device", jetson, "--n-prompt", 8, "-n", 8, "-r", 2, "--format", "json",
               "-o", out, "--depth", "0,16")
    assert r.exit_code == 0, r.output
    assert "warning: ssh://" in r.stderr and "Jetson clocks are not locked" in r.stderr
    report = json.loads(out.read_text())
    pp, tg, deep = report["rows"]
    assert (pp["test"], tg["test"], deep["test"]) == ("pp8", "tg8", "tg8 @ d16")
    assert tg["backend"].startswith("edgecpm-runner (C++) on ssh://")
    # The copy bandwidth program deployed beside the runner ran there (under qemu here).
    copy = report["copy_bandwidth"]["copy_gb_s"]
    assert copy > 0 and tg["copy_gb_s"] == copy and tg["bw_pct"] == pytest.approx(100 * tg["weight_gb_s"] / copy)
    runner_mib = AARCH64_RUNNER.stat().st_size / 2**20
    ram_mib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    assert all(runner_mib < row["peak_rss_mib"] < ram_mib for row in report["rows"]) and deep["power_w"]
    assert len(tg["samples"]) == 2 and all(s > 0 for s in tg["samples"])
    # The stand-in tegrastats' rails sum to 6.8-7.0 W on AGX Orin's rails.
    assert len(tg["power_w"]) == 2 and all(6.8 < w < 7.0 for w in tg["power_w"])
    assert tg["tokens_per_j"] == pytest.approx(sum(s / w for s, w in zip(tg["samples"], tg["power_w"])) / 2)
    assert pp["power_w"] is None
    device = report["device"]
    assert device["jetson"] == {"power_mode": "MAXN (0)", "tegrastats": True, "clocks_locked": False}
    assert device["power_method"].startswith("sum of VDD_GPU_SOC+VDD_CPU_CV+VIN_SYS_5V0")
    assert device["machine"] and device["kernel"] and device["cores"] >= 1 and device["isa_features"]
    assert any("not locked" in w for w in device["warnings"])
    assert any("EDGECPM_RUNNER_PREFIX" in w for w in device["warnings"])


def test_a_bundle_for_another_cpu_is_refused_before_copying(sshd, ssh_config, aarch64_bundle, tmp_path):
    folder = tmp_path / "plain"
    r = invoke("deploy", aarch64_bundle, "--device", sshd.url(sshd.plain_port, folder))
    assert r.exit_code == 2
    assert r.output.strip().splitlines() == [
        f"error: {sshd.url(sshd.plain_port)} is a x86_64 device, but {aarch64_bundle} was exported for aarch64 "
        "(--target host); export it for the device (--target host) and deploy that"]
    assert not folder.exists()


def test_a_runner_killed_by_a_signal_is_one_line(jetson, ssh_config, aarch64_bundle):
    marker = f"{urlsplit(jetson).path}/runtime/aarch64/edgecpm-runner --model"

    def kill_runner():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            # the runner itself (qemu running it), not the shells that started it
            pids = [p for p in processes_with(marker)
                    if Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")[0].endswith(b"qemu-aarch64")]
            if pids:
                time.sleep(0.3)
                for pid in pids:
                    os.kill(pid, 9)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_runner)
    killer.start()
    r = invoke("generate", aarch64_bundle, "--device", jetson, "-p", PROMPT_TEXT, "-n", 70)
    killer.join()
    assert r.exit_code == 2, r.output
    assert r.output.strip().splitlines()[-1].startswith("error: ssh://") and \
        "edgecpm-runner was killed by SIGKILL" in r.output, r.output
    assert gone(marker, within=10), [Path(f"/proc/{p}/cmdline").read_bytes() for p in processes_with(marker)]


def test_bench_compares_with_llama_bench_found_on_the_device(jetson, ssh_config, aarch64_bundle, tmp_path,
                                                            monkeypatch):
    """`--compare llama.cpp` on a device: our GGUF export of the bundle's checkpoint copied there and
    llama-bench run on it (the rehearsal Jetson's llama-bench is a stand-in printing llama-bench's
    JSONL with made-up rates), its rows beside the runner's with a ratio line."""
    monkeypatch.setenv("EDGECPM_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "bench.json"
    r = invoke("bench", aarch64_bundle, "--device", jetson, "--n-prompt", 8, "-n", 4, "-r", 2, "--compare",
               "llama.cpp", "--format", "json", "-o", out)
    assert r.exit_code == 0, r.output
    report = json.loads(out.read_text())
    peer = [row for row in report["rows"] if row["backend"].startswith("llama.cpp llama-bench (standin) on ssh://")]
    assert [row["test"] for row in peer] == ["pp8", "tg4"] and peer[1]["samples"] == [10.0, 10.0]
    assert any("/ llama.cpp tg4:" in note for note in report["notes"])
    r = invoke("bench", aarch64_bundle, "--device", jetson, "--compare", "et-8da4w")
    assert r.exit_code == 2 and "on the host only" in r.output
