"""Fixtures for the device tests: the loopback sshd (one per session), a fake adb phone, and the
tiny float bundle marked as exported for aarch64 (the program is architecture independent; see
tests/runner/test_runner.py ``exported_for``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.device.sshd import LoopbackSshd
from tests.runner.test_runner import exported_for

FAKE_ADB = Path(__file__).resolve().parent / "fake_adb.py"


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    server = LoopbackSshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


@pytest.fixture
def ssh_config(sshd, monkeypatch):
    """The client side: edgecpm's ssh reads the throw-away config (key, known host)."""
    monkeypatch.setenv("EDGECPM_SSH_CONFIG", str(sshd.client_config))
    return sshd.client_config


@pytest.fixture(scope="session")
def aarch64_bundle(tiny_bundles, tmp_path_factory) -> Path:
    _, bundle = tiny_bundles["float"]
    return exported_for(bundle, "aarch64", tmp_path_factory.mktemp("aarch64") / "tiny float")


class FakePhone:
    serial = "FAKE0123"

    def __init__(self, root: Path):
        self.root, self.log = root / "phone", root / "adb.log"
        self.root.mkdir()
        self.bin = root / "bin"
        self.bin.mkdir()
        adb = self.bin / "adb"
        adb.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_ADB}" "$@"\n')
        adb.chmod(0o755)

    def calls(self) -> list[list[str]]:
        import json

        return [json.loads(line) for line in self.log.read_text().splitlines()] if self.log.exists() else []


@pytest.fixture
def phone(tmp_path, monkeypatch) -> FakePhone:
    """A fake adb first on PATH, serving a folder as the phone FAKE0123."""
    fake = FakePhone(tmp_path)
    monkeypatch.setenv("PATH", f"{fake.bin}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_ADB_ROOT", str(fake.root))
    monkeypatch.setenv("FAKE_ADB_SERIAL", fake.serial)
    monkeypatch.setenv("FAKE_ADB_LOG", str(fake.log))
    monkeypatch.delenv("EDGECPM_ADB", raising=False)
    return fake
