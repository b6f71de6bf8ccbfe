"""``edgecpm deploy``: a bundle and the runner that runs it, onto a device, ready to start.

The device folder (the transport's ``root``) holds ``runtime/<arch>/`` (the runner and its
libraries, shared by every bundle) and ``bundles/<bundle folder name>/`` (one folder per
bundle). Both are synced by checksum, so a second deploy of the same bundle sends nothing. The
bundle is checked here first (its manifest and checksums), the device's CPU against the bundle's
before anything is copied, and the runner is started once (``--help``) so a device that cannot
execute it fails now with one line, not in the middle of a benchmark.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from pathlib import Path

from edgecpm.errors import DeviceError
from edgecpm.export.pte_manifest import MANIFEST, PROGRAM, read_manifest
from edgecpm.runtime.device_info import fingerprint
from edgecpm.runtime.device_runtime import launch_command, runtime_files
from edgecpm.runtime.remote_shell import join_path
from edgecpm.runtime.remote_transport import DEFAULT_TIMEOUT, RemoteTransport, SyncResult

VOCAB_BIN = "vocab.bin"
# Android ABIs as CPU architectures (what a bundle's manifest names).
_ABI_ARCH = {"arm64-v8a": "aarch64", "armeabi-v7a": "armv7l", "x86_64": "x86_64", "x86": "i686"}
_EXEC_FAILED = ("Exec format error", "cannot execute", "not executable", "No such file or directory",
                "syntax error", "not found")


@dataclass
class Deployment:
    transport: RemoteTransport
    info: dict                       # the device's fingerprint (device_info.fingerprint)
    runtime_dir: str
    bundle_dir: str
    launch: list[str]                # argv prefix that starts the runner there
    env: dict[str, str]
    synced: list[SyncResult] = field(default_factory=list)

    @property
    def model(self) -> str:
        return join_path(self.bundle_dir, PROGRAM)

    @property
    def vocab(self) -> str:
        return join_path(self.bundle_dir, VOCAB_BIN)


def device_arch(info: dict) -> str | None:
    abi = (info.get("android") or {}).get("abi")
    return _ABI_ARCH.get(abi, abi) if abi else info.get("machine")


def deploy(transport: RemoteTransport, bundle: Path, timeout: float = DEFAULT_TIMEOUT) -> Deployment:
    bundle = Path(bundle)
    manifest = read_manifest(bundle)   # a damaged bundle is refused before anything is sent
    info = fingerprint(transport)
    arch, want = device_arch(info), manifest["arch"]
    android = "android" in info
    # A device that runs programs through a prefix (qemu on a rehearsal host) is checked by
    # starting the runner below instead.
    if arch != want and "runner_prefix" not in info:
        raise DeviceError(f"{transport.name} is a {arch} device, but {bundle} was exported for {want} "
                          f"(--target {manifest['target']}); {_export_hint(arch, android)}")
    files = runtime_files(want, android, platform.machine())
    runtime_dir = join_path(transport.root, f"runtime/{want}")
    bundle_dir = join_path(transport.root, f"bundles/{bundle.name}")
    bundle_files = {name: bundle / name for name in [*manifest["sha256"], MANIFEST]}
    synced = [transport.sync(files, runtime_dir, timeout), transport.sync(bundle_files, bundle_dir, timeout)]
    launch, env = launch_command(runtime_dir, android, info.get("runner_prefix", ""))
    deployment = Deployment(transport, info, runtime_dir, bundle_dir, launch, env, synced)
    _check_runner_starts(deployment, want, timeout)
    return deployment


def _export_hint(arch: str | None, android: bool) -> str:
    if arch == "aarch64":
        return f"export it for the device (--target {'android' if android else 'jetson'}) and deploy that"
    if arch == platform.machine():
        return "export it for the device (--target host) and deploy that"
    return f"edgecpm builds no runner for {arch} devices (only aarch64 and {platform.machine()})"


def _check_runner_starts(d: Deployment, want: str, timeout: float) -> None:
    done = d.transport.run([*d.launch, "--help"], timeout=timeout, env=d.env)
    if done.returncode == 0 and "usage: edgecpm-runner" in done.stdout:
        return
    said = (done.stderr.strip().splitlines() or ["no message"])[-1]
    if done.returncode in (126, 127) or any(s in done.stderr for s in _EXEC_FAILED):
        raise DeviceError(f"{d.transport.name} cannot execute the {want} runner ({said}); it reports "
                          f"{device_arch(d.info)}: {_export_hint(device_arch(d.info), 'android' in d.info)}")
    raise DeviceError(f"{d.transport.name}: the runner does not start there (exit {done.returncode}: {said})")
