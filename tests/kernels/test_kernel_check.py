"""The C++ kernel self-check (runtime_kernels/tests/kernel_check.cpp) on x86 and, under qemu, on aarch64.

The binary compares the scalar drivers with a double-precision definition and every SIMD table
this CPU supports with scalar (bit-identical; InfLLM-v2 attention: the same blocks, outputs to
rounding): AVX2 and AVX-512 VNNI here, NEON / SDOT / SMMLA under qemu (cortex-a53, a76, max). ``--require`` makes it fail rather than pass by checking scalar against itself when
the SIMD path is absent.
"""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HOST = REPO / "build" / "kernels" / "host" / "edgecpm_kernel_check"
AARCH64 = REPO / "build" / "kernels" / "aarch64" / "edgecpm_kernel_check"


def run_check(binary: Path, *args: str, cpu: str | None = None) -> str:
    assert binary.is_file(), f"{binary} is not built: run `make kernels` and `make kernels-aarch64`"
    res = subprocess.run(qemu(cpu) + [str(binary), *args] if cpu else [str(binary), *args],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    m = re.search(r"kernel_check: (\d+) checks, 0 failures", res.stdout)
    assert m and int(m.group(1)) > 1000, res.stdout
    # The InfLLM-v2 attention part ran too (runtime_kernels/tests/infllm_check.cpp).
    assert re.search(r"infllm_attention \d+ cases, \d+ checks, 0 failures", res.stdout), res.stdout
    return res.stdout


def cpu_has(flag: str) -> bool:
    return flag in Path("/proc/cpuinfo").read_text().split()


@pytest.mark.skipif(platform.machine() != "x86_64", reason="x86-64 host build")
def test_x86_kernels_match_scalar_and_definition():
    vnni = all(cpu_has(f) for f in ("avx512f", "avx512bw", "avx512vl", "avx512_vnni"))
    isa = (["--require", "avx2"] if cpu_has("avx2") else []) + (["--require", "avx512vnni"] if vnni else [])
    out = run_check(HOST, *isa)
    assert ("avx2" in out) == cpu_has("avx2")
    assert ("avx512vnni" in out) == vnni


def qemu(cpu: str) -> list[str]:
    exe = shutil.which("qemu-aarch64")
    assert exe, "qemu-aarch64 is not installed: apt-get install qemu-user (see .ci/run)"
    return [exe, "-cpu", cpu]


def test_neon_dotprod_on_cortex_a76():
    out = run_check(AARCH64, "--require", "neon-dotprod", cpu="cortex-a76")
    assert "ISAs available: neon-dotprod,neon,scalar" in out


def test_neon_i8mm_on_max():
    out = run_check(AARCH64, "--require", "neon-i8mm", cpu="max")
    assert "ISAs available: neon-i8mm,neon-dotprod,neon,scalar" in out


def test_neon_fallback_on_cortex_a53_without_dotprod():
    out = run_check(AARCH64, "--require", "neon", cpu="cortex-a53")
    assert "ISAs available: neon,scalar" in out
    refused = subprocess.run(qemu("cortex-a53") + [str(AARCH64), "--require", "neon-dotprod"],
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "neon-dotprod is not available" in refused.stdout
