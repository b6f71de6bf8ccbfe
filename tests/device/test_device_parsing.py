"""The parsers behind device records, against the tools' own text: tegrastats power, nvpmodel,
jetson_clocks, Android's thermal status; the runner's streamed output; exit statuses; and the
runtime file list against the built runner's NEEDED entries."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from edgecpm.bench_records import BenchReport, BenchRow, parse_rows
from edgecpm.errors import DeviceError
from edgecpm.runtime.device_info import clocks_locked, isa_features, power_mode, thermal_status
from edgecpm.runtime.device_runner import RunnerOutput, runner_failure
from edgecpm.runtime.device_runtime import RUNNER_LIBRARIES
from edgecpm.runtime.power import parse_tegrastats, rails
from tests.device.sshd import STANDINS
from tests.runner.test_runner import AARCH64_RUNNER, HOST_RUNNER

AGX_ORIN = ("RAM 2257/30536MB (lfb 6649x4MB) SWAP 0/15268MB (cached 0MB) CPU [0%@729,0%@729] EMC_FREQ 0%@2133 "
            "GR3D_FREQ 0%@[0,0] VIC_FREQ 729 APE 174 CPU@44.968C tj@44.968C VDD_GPU_SOC 2390mW/2390mW "
            "VDD_CPU_CV 398mW/398mW VIN_SYS_5V0 3522mW/3522mW NC 0mW/0mW VDDQ_VDD2_1V8AO 503mW/503mW NC 0mW/0mW")
ORIN_NANO = ("RAM 2448/7620MB (lfb 1x2MB) SWAP 0/3810MB (cached 0MB) CPU [2%@1510,1%@1510,off,off] EMC_FREQ 0%@2133 "
             "GR3D_FREQ 0%@[624] CPU@48.375C tj@48.375C VDD_IN 4524mW/4524mW VDD_CPU_GPU_CV 481mW/481mW "
             "VDD_SOC 1323mW/1323mW")
JETPACK4 = ("RAM 1563/3956MB (lfb 96x4MB) SWAP 0/1978MB (cached 0MB) CPU [5%@102,3%@102,1%@102,0%@102] "
            "EMC_FREQ 0% GR3D_FREQ 0% PLL@24C CPU@26.5C POM_5V_IN 2093/2093 POM_5V_GPU 0/0 POM_5V_CPU 357/357")


def test_tegrastats_rails_leave_memory_out():
    assert rails(AGX_ORIN) == {"VDD_GPU_SOC": 2390, "VDD_CPU_CV": 398, "VIN_SYS_5V0": 3522, "NC": 0,
                               "VDDQ_VDD2_1V8AO": 503}
    assert rails(JETPACK4) == {"POM_5V_IN": 2093, "POM_5V_GPU": 0, "POM_5V_CPU": 357}


def test_power_is_the_input_rail_where_there_is_one():
    reading = parse_tegrastats("\n".join([ORIN_NANO, ORIN_NANO.replace("VDD_IN 4524mW", "VDD_IN 5524mW")]))
    assert reading.watts == pytest.approx(5.024) and reading.samples == 2 and reading.method == "VDD_IN"
    assert parse_tegrastats(JETPACK4).watts == pytest.approx(2.093)


def test_agx_orin_power_sums_its_rails():
    reading = parse_tegrastats(AGX_ORIN + "\n")
    assert reading.watts == pytest.approx((2390 + 398 + 3522 + 503) / 1000)
    assert reading.method == "sum of VDD_GPU_SOC+VDD_CPU_CV+VIN_SYS_5V0+VDDQ_VDD2_1V8AO"


def test_the_tegrastats_standin_prints_what_the_parser_reads():
    proc = subprocess.Popen([str(STANDINS / "tegrastats"), "--interval", "50"], stdout=subprocess.PIPE, text=True)
    lines = [proc.stdout.readline() for _ in range(3)]
    proc.kill()
    proc.wait()
    reading = parse_tegrastats("".join(lines))
    assert reading.samples == 3 and 6.8 < reading.watts < 7.0


def test_no_rails_no_reading():
    assert parse_tegrastats("tegrastats: permission denied\n") is None


def test_nvpmodel_and_clocks():
    assert power_mode("NV Power Mode: MAXN|0") == "MAXN (0)"
    assert power_mode("NV Power Mode: 15W|2|") == "15W (2)"
    assert power_mode("nvpmodel: not found") is None
    show = subprocess.run([str(STANDINS / "jetson_clocks"), "--show"], capture_output=True, text=True).stdout
    assert clocks_locked(show.replace("\n", "|")) is False
    locked = show.replace("MinFreq=729600", "MinFreq=2201600").replace("MinFreq=306000000", "MinFreq=1300500000")
    assert clocks_locked(locked.replace("\n", "|")) is True
    assert clocks_locked("Error: jetson_clocks must be run as root|") is None


def test_thermal_status_and_features():
    assert thermal_status("Thermal Status: 3") == 3 and thermal_status("") is None
    assert isa_features(" fp asimd evtstrm aes crc32 atomics asimddp") == ["fp", "asimd", "evtstrm", "aes", "crc32",
                                                                          "atomics", "asimddp"]
    assert isa_features(" fpu sse2 sse4_2 avx avx2 fma f16c rdrand") == ["sse4_2", "avx", "avx2", "fma", "f16c"]


STATS = {"prompt_tokens": 2, "tokens": [5, 6]}


@pytest.mark.parametrize("text", ["héllo wörld", "line one\n{not json}\nline two", "", "{braces} first",
                                  "ends with newline\n"])
def test_runner_output_streams_the_text_and_keeps_the_json_line(text):
    # The runner adds a newline before its JSON line when the text lacks one.
    raw = (text + ("" if text.endswith("\n") or not text else "\n") + json.dumps(STATS) + "\n").encode()
    for size in (1, 2, 3, 7, len(raw)):   # every way the pipe may cut it, multi-byte characters included
        seen = []
        out = RunnerOutput(seen.append)
        for i in range(0, len(raw), size):
            out.feed(raw[i:i + size])
        assert out.finish() == STATS
        assert "".join(seen) == out.text == text.removesuffix("\n")


def test_output_without_the_json_line_is_an_error():
    out = RunnerOutput()
    out.feed(b"text and then the connection went")
    with pytest.raises(DeviceError, match="does not end with its JSON stats line"):
        out.finish()


def test_exit_statuses_become_messages():
    assert "killed by SIGKILL (the kernel's out-of-memory killer" in str(runner_failure("ssh://j", 137, ""))
    assert "killed by SIGILL (the CPU lacks" in str(runner_failure("ssh://j", 132, ""))
    assert str(runner_failure("adb://X", 1, "log\nedgecpm-runner: error: bad prompt\n")) == \
        "adb://X: edgecpm-runner failed (exit 1): edgecpm-runner: error: bad prompt"


@pytest.mark.parametrize("runner", [HOST_RUNNER, AARCH64_RUNNER], ids=["host", "aarch64"])
def test_runtime_libraries_are_what_the_runner_links(runner):
    readelf = shutil.which("readelf") or shutil.which("aarch64-linux-gnu-readelf")
    if readelf is None:
        pytest.fail("readelf is missing: apt-get install binutils")
    if not Path(runner).is_file():
        pytest.fail(f"{runner} is not built: run `make kernels` / `make kernels-aarch64`")
    dynamic = subprocess.run([readelf, "-d", str(runner)], capture_output=True, text=True, check=True).stdout
    needed = {line.split("[")[1].rstrip("]") for line in dynamic.splitlines() if "(NEEDED)" in line}
    assert {n for n in needed if n.startswith("libexecutorch")} == set(RUNNER_LIBRARIES)


def test_a_device_report_names_the_device_and_adds_power_columns():
    device = {"device": "ssh://jetson", "model": "NVIDIA Jetson AGX Orin Developer Kit", "machine": "aarch64",
              "kernel": "Linux 5.15.136-tegra", "cores": 12, "isa_features": ["asimd", "asimddp"],
              "jetson": {"power_mode": "MAXN (0)", "tegrastats": True, "clocks_locked": False},
              "warnings": ["ssh://jetson: Jetson clocks are not locked"]}
    report = BenchReport(fingerprint=device)
    report.rows = [BenchRow("b", 10.0, 1.0, "edgecpm-runner (C++)", 12, "pp8", [100.0], device="ssh://jetson"),
                   BenchRow("b", 10.0, 1.0, "edgecpm-runner (C++)", 12, "tg8", [20.0, 30.0], device="ssh://jetson",
                            power_w=[10.0, 12.0])]
    lines = report.markdown().splitlines()
    assert lines[0] == ("device ssh://jetson: NVIDIA Jetson AGX Orin Developer Kit, aarch64, Linux 5.15.136-tegra, "
                        "12 cores, asimd asimddp, nvpmodel MAXN (0), clocks NOT locked")
    assert lines[1] == "warning: ssh://jetson: Jetson clocks are not locked"
    head = [c.strip() for c in lines[3].strip("|").split("|")]
    pp, tg = ([c.strip() for c in line.strip("|").split("|")] for line in lines[5:7])
    w, tpj = head.index("W"), head.index("tok/J")
    assert (pp[w], pp[tpj]) == ("", "") and (tg[w], tg[tpj]) == ("11.00", "2.25")   # (20/10 + 30/12) / 2
    tg_csv = list(csv.DictReader(io.StringIO(report.csv())))[1]
    assert float(tg_csv["watts"]) == 11.0 and float(tg_csv["tokens_per_j"]) == 2.25
    assert parse_rows(report.csv(), "csv")[1].power_w == [10.0, 12.0]
    assert json.loads(report.json())["device"] == device
