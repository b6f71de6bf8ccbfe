"""Who the device is, for every record measured on it: model, kernel, cores, ISA features, and on
a Jetson its power mode and whether its clocks are locked; on a phone its thermal status.

One shell round trip reads it all (``FINGERPRINT``); the parsers below turn the tools' own text
into fields. Nothing is guessed: a value the device does not report is left out (None), and a
Jetson whose clock state cannot be read says so.
"""

from __future__ import annotations

import re

from edgecpm.runtime.remote_transport import RemoteTransport

# key=value lines; a value's newlines become '|' so every key is one line.
FINGERPRINT = r"""p() { printf '%s=%s\n' "$1" "$(printf '%s' "$2" | tr '\n' '|')"; }
p machine "$(uname -m)"
p kernel "$(uname -sr)"
p cores "$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null)"
if [ -r /proc/device-tree/model ]; then p dt_model "$(tr -d '\000' < /proc/device-tree/model)"; fi
if [ -r /sys/class/dmi/id/product_name ]; then p dmi_model "$(cat /sys/class/dmi/id/product_name 2>/dev/null)"; fi
if command -v getprop >/dev/null 2>&1; then
  p android_model "$(getprop ro.product.model)"
  p android_release "$(getprop ro.build.version.release)"
  p android_abi "$(getprop ro.product.cpu.abi)"
fi
p features "$(grep -m1 -E '^(Features|flags)[[:space:]]*:' /proc/cpuinfo 2>/dev/null | cut -d: -f2-)"
if command -v nvpmodel >/dev/null 2>&1; then p nvpmodel "$(nvpmodel -q 2>&1)"; fi
if command -v tegrastats >/dev/null 2>&1; then p tegrastats yes; fi
if command -v jetson_clocks >/dev/null 2>&1; then p jetson_clocks "$(jetson_clocks --show 2>&1)"; fi
if command -v dumpsys >/dev/null 2>&1; then
  p thermal "$(dumpsys thermalservice 2>/dev/null | grep -m1 'Thermal Status')"
fi
p runner_prefix "$EDGECPM_RUNNER_PREFIX"
exit 0
"""

THERMAL = "dumpsys thermalservice 2>/dev/null | grep -m1 'Thermal Status'"

# x86 lists ~100 flags; these are the ones edgecpm's kernels (or XNNPACK's) choose between.
_X86_FEATURES = {"sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni",
                 "avx512_bf16", "amx_tile", "amx_int8"}


def fingerprint(transport: RemoteTransport, timeout: float = 60) -> dict:
    """The device's description, as stored with every record measured on it."""
    done = transport.shell(FINGERPRINT, timeout=timeout)
    raw = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    info = {"device": transport.name, "machine": raw.get("machine") or None, "kernel": raw.get("kernel") or None,
            "cores": int(raw["cores"]) if raw.get("cores", "").isdigit() else None,
            "model": raw.get("dt_model") or raw.get("android_model") or raw.get("dmi_model") or None,
            "isa_features": isa_features(raw.get("features", ""))}
    if raw.get("android_model"):
        info["android"] = {"release": raw.get("android_release"), "abi": raw.get("android_abi")}
        info["thermal_status"] = thermal_status(raw.get("thermal", ""))
    if raw.get("nvpmodel") or raw.get("tegrastats"):
        info["jetson"] = {"power_mode": power_mode(raw.get("nvpmodel", "")), "tegrastats": "tegrastats" in raw,
                          "clocks_locked": clocks_locked(raw.get("jetson_clocks", ""))}
    if raw.get("runner_prefix"):
        # Set on the device (EDGECPM_RUNNER_PREFIX): the runner runs through it, e.g. under qemu.
        info["runner_prefix"] = raw["runner_prefix"]
    info["warnings"] = warnings(info)
    return info


def isa_features(line: str) -> list[str]:
    words = line.split()
    if any(w in words for w in ("avx2", "sse2", "sse4_2")):
        return [w for w in words if w in _X86_FEATURES]
    return words


def power_mode(nvpmodel_q: str) -> str | None:
    """``nvpmodel -q``: 'NV Power Mode: MAXN|0' → 'MAXN (0)'."""
    m = re.search(r"NV Power Mode:\s*([^|]+)\|?\s*(\d+)?", nvpmodel_q)
    if m is None:
        return None
    return f"{m.group(1).strip()} ({m.group(2)})" if m.group(2) else m.group(1).strip()


def clocks_locked(show: str) -> bool | None:
    """``jetson_clocks --show``: locked when every online CPU's and the GPU's MinFreq equals its
    MaxFreq (what ``jetson_clocks`` sets); None when the output has no clock lines (not root)."""
    lines = show.split("|")
    clocks = [l for l in lines if re.match(r"\s*(cpu\d+:|GPU )", l)]
    pairs = []
    for line in clocks:
        if "Online=0" in line:
            continue
        lo, hi = re.search(r"MinFreq=(\d+)", line), re.search(r"MaxFreq=(\d+)", line)
        if lo and hi:
            pairs.append((int(lo.group(1)), int(hi.group(1))))
    if not pairs:
        return None
    return all(lo == hi for lo, hi in pairs)


def thermal_status(line: str) -> int | None:
    """``dumpsys thermalservice``'s 'Thermal Status: N' (0 none, 1 light ... 6 shutdown)."""
    m = re.search(r"Thermal Status:\s*(\d+)", line)
    return int(m.group(1)) if m else None


def read_thermal_status(transport: RemoteTransport) -> int | None:
    return thermal_status(transport.shell(THERMAL, timeout=60).stdout)


def warnings(info: dict) -> list[str]:
    """What a reader of the numbers must know about the device's state."""
    out = []
    jetson = info.get("jetson")
    if jetson is not None:
        if jetson["clocks_locked"] is False:
            out.append(f"{info['device']}: Jetson clocks are not locked (MinFreq < MaxFreq): timings vary with DVFS; "
                       "run `sudo jetson_clocks` before benchmarking")
        elif jetson["clocks_locked"] is None:
            out.append(f"{info['device']}: could not read the Jetson clock state (`jetson_clocks --show` needs root "
                       "there); lock them with `sudo jetson_clocks` before benchmarking")
    if "runner_prefix" in info:
        out.append(f"{info['device']}: the runner runs through EDGECPM_RUNNER_PREFIX={info['runner_prefix']!r} set "
                   "on the device; timings are of that, not of native execution")
    return out


def describe(info: dict) -> str:
    """A device as a report's first line, then its warnings, one per line."""
    parts = [info.get("model") or "model unknown", info.get("machine"), info.get("kernel"),
             f"{info.get('cores')} cores", " ".join(info.get("isa_features") or []) or None]
    jetson = info.get("jetson")
    if jetson:
        parts.append(f"nvpmodel {jetson.get('power_mode')}, clocks "
                     + {True: "locked", False: "NOT locked", None: "unknown"}[jetson.get("clocks_locked")])
    if "thermal_before" in info:
        parts.append(f"thermal status {info['thermal_before']} -> {info['thermal_after']}"
                     + (" (THROTTLING)" if info.get("throttling") else ""))
    line = f"device {info['device']}: " + ", ".join(str(p) for p in parts if p)
    return "\n".join([line, *(f"warning: {w}" for w in info.get("warnings", []))])
