"""The app end to end without a phone: `make android`'s APK installed on a fake adb device (a
folder + qemu-aarch64: tests/device/fake_adb.py), a tiny aarch64 bundle pushed into the app's bundles
folder, and the exact command line the app builds (RunnerCommand, printed by ProtocolTool) run
through `adb shell` against the libraries the install extracted from the APK, with no host
sysroot, driven by the app's own ChatSession (ChatTool, a JUnit-side driver that sends prompts and
Stop as ChatActivity does). The answers must be eager PyTorch's greedy tokens; the second turn must
be answered from the kept cache, prefilling only its new ids.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from edgecpm.checkpoint.loader import load_model
from edgecpm.tokenizer.tokenizer import load_tokenizer
from tests.android.app_build import APP, JUNIT_JARS, compile_classes, jdk_missing, protocol_tool
from tests.conftest import REPO, TinyBundles
from tests.runner.chat_turns import Conversation
from tests.runner.test_runner import AARCH64_RUNNER, exported_for, require

pytestmark = pytest.mark.slow  # qemu, and the float tiny bundle's export when no other test made it

APK = REPO / "android_demo" / "build" / "edgecpm-demo.apk"
FAKE_ADB = REPO / "tests" / "device" / "fake_adb.py"
SERIAL = "fake-phone"
PACKAGE = "org.edgecpm.demo"
DEVICE_BUNDLE = f"/sdcard/Android/data/{PACKAGE}/files/bundles/tiny"
N = 12
FIRST = "Write a function that adds two numbers."
SECOND = "Now multiply them."


@pytest.fixture(scope="module")
def apk():
    """`make android`'s APK; built here when missing or older than the runner or app sources."""
    if shutil.which("qemu-aarch64") is None:
        pytest.fail("qemu-aarch64 is not installed: apt-get install qemu-user (see .ci/run)")
    inputs = [require(AARCH64_RUNNER, "kernels-aarch64"), *APP.rglob("*"), *(REPO / "android_demo" / "tools").iterdir()]
    if not APK.is_file() or APK.stat().st_mtime < max(p.stat().st_mtime for p in inputs):
        res = subprocess.run([str(REPO / "android_demo" / "build.sh")], capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, f"android_demo/build.sh failed (make android):\n{res.stdout[-3000:]}{res.stderr[-3000:]}"
    return APK


@pytest.fixture(scope="module")
def classes(tmp_path_factory):
    if (why := jdk_missing()) is not None:
        pytest.fail(why)
    return compile_classes(tmp_path_factory.mktemp("app-classes"), with_tests=True)


def fake_adb_env(device: Path) -> dict:
    return {**os.environ, "FAKE_ADB_ROOT": str(device), "FAKE_ADB_SERIAL": SERIAL}


def adb(device: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    res = subprocess.run([sys.executable, str(FAKE_ADB), "-s", SERIAL, *args], capture_output=True, text=True,
                         timeout=300, env=fake_adb_env(device))
    assert res.returncode == 0 or not check, res.stdout + res.stderr
    return res


def test_install_refuses_a_damaged_apk(apk, tmp_path):
    tampered = tmp_path / "tampered.apk"
    shutil.copyfile(apk, tampered)
    with zipfile.ZipFile(tampered, "a") as z:
        z.writestr("assets/extra.txt", "changes the signed contents")
    (tmp_path / "device").mkdir()
    res = adb(tmp_path / "device", "install", str(tampered), check=False)
    assert res.returncode == 1 and "INSTALL_PARSE_FAILED_NO_CERTIFICATES" in res.stdout
    assert not (tmp_path / "device" / "data" / "app").exists()


def test_app_command_line_on_a_fake_device_matches_eager(apk, classes, tiny_bundles, tmp_path):
    device = tmp_path / "device"
    device.mkdir()
    assert adb(device, "install", "-r", str(apk)).stdout.strip() == "Success"
    base_apk = adb(device, "shell", "pm", "path", PACKAGE).stdout.strip().removeprefix("package:")
    native_dir = str(Path(base_apk).parent / "lib" / "arm64")  # the app's nativeLibraryDir
    extracted = sorted(p.name for p in (device / native_dir.lstrip("/")).iterdir())
    assert "libld_glibc.so" in extracted and "libedgecpm_runner.so" in extracted

    ckpt, host_bundle = tiny_bundles["float"]
    adb(device, "push", str(exported_for(host_bundle, "aarch64", tmp_path / "tiny")), DEVICE_BUNDLE)

    argv = protocol_tool(classes, "command", native_dir, DEVICE_BUNDLE, "0")
    env = protocol_tool(classes, "env")
    assert argv[:4] == [f"{native_dir}/libld_glibc.so", "--library-path", native_dir, f"{native_dir}/libedgecpm_runner.so"]
    command = " ".join(shlex.quote(word) for word in [*env, *argv])
    res = subprocess.run(["java", "-cp", ":".join([str(classes), *map(str, JUNIT_JARS)]), "org.edgecpm.demo.core.ChatTool",
                          str(N), FIRST, SECOND, "!stop:And divide?", "--", sys.executable, str(FAKE_ADB), "-s", SERIAL, "shell", command],
                         capture_output=True, text=True, timeout=900, env=fake_adb_env(device))
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    assert res.returncode == 0 and lines[-1] == {"exit": 0}, res.stdout[-2000:] + res.stderr[-2000:]

    model = load_model(ckpt, dtype=torch.float32, max_seq_len=TinyBundles.MAX_SEQ_LEN)
    tokenizer = load_tokenizer(host_bundle)
    conv = Conversation(tokenizer)
    for text, turn in zip((FIRST, SECOND), lines):
        want = conv.expected(model, text, N)
        assert turn["tokens"] == want
        assert turn["text"] == tokenizer.decode([i for i in want if i not in tokenizer.eos_ids])
        assert turn["prompt_tokens"] == len(conv.new_ids(text))  # the cache kept the earlier turn
        conv.add_turn(text, want)
        assert turn["position"] == len(conv.ids)
    # Stop, sent right after the prompt as the Stop button does: the answer ends early.
    stopped = lines[2]
    assert stopped["reason"] == "stop" and 1 <= len(stopped["tokens"]) < N


def test_static_checks_pass_the_apk_and_fail_a_damaged_one(apk, tmp_path):
    check = REPO / "android_demo" / "tools" / "check_apk.sh"
    ok = subprocess.run([str(check), str(apk)], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0 and "v2+v3 signed, aligned" in ok.stdout, ok.stderr
    tampered = tmp_path / "tampered.apk"
    shutil.copyfile(apk, tampered)
    with zipfile.ZipFile(tampered, "a") as z:
        z.writestr("lib/arm64-v8a/runner.bin", b"\x7fELF not a library")
    bad = subprocess.run([str(check), str(tampered)], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1
    for says in ("apksigner verify failed", "lib/arm64-v8a/runner.bin is not named lib*.so",
                 "lib/arm64-v8a/runner.bin is not AArch64"):
        assert says in bad.stderr, bad.stderr
