"""The app end to end without a phone: `make android`'s APK installed on a fake adb device (a
folder + qemu-aarch64: fake_adb.py), a tiny aarch64 bundle pushed where `edgecpm deploy` puts
it, and the exact command line and stdin lines the app builds (printed by the app's own classes:
ProtocolTool) run through `adb shell` against the libraries the install extracted from the APK,
with no host sysroot. The answers must be eager PyTorch's greedy tokens; the second turn must be
answered by the same process from its kept cache.
"""

from __future__ import annotations

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
from tests.android.app_build import APP, compile_classes, jdk_missing, protocol_tool
from tests.conftest import REPO, TinyBundles
from tests.runner.chat_turns import Conversation
from tests.runner.serve_client import ServeClient
from tests.runner.test_runner import AARCH64_RUNNER, exported_for, require

pytestmark = pytest.mark.slow  # qemu, and the float tiny bundle's export when no other test made it

APK = REPO / "android_demo" / "build" / "edgecpm-demo.apk"
FAKE_ADB = Path(__file__).with_name("fake_adb.py")
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
    return compile_classes(tmp_path_factory.mktemp("app-classes"), with_tests=False)


def adb(device: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    res = subprocess.run([sys.executable, str(FAKE_ADB), *args], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "FAKE_ADB_ROOT": str(device)})
    assert res.returncode == 0 or not check, res.stdout + res.stderr
    return res


def test_install_refuses_a_damaged_apk(apk, tmp_path):
    tampered = tmp_path / "tampered.apk"
    shutil.copyfile(apk, tampered)
    with zipfile.ZipFile(tampered, "a") as z:
        z.writestr("assets/extra.txt", "changes the signed contents")
    res = adb(tmp_path / "device", "install", str(tampered), check=False)
    assert res.returncode == 1 and "INSTALL_PARSE_FAILED_NO_CERTIFICATES" in res.stdout
    assert not (tmp_path / "device" / "data" / "app").exists()


def test_app_command_line_on_a_fake_device_matches_eager(apk, classes, tiny_bundles, tmp_path):
    device = tmp_path / "device"
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
    client = ServeClient([sys.executable, str(FAKE_ADB), "shell", command],
                         env={**os.environ, "FAKE_ADB_ROOT": str(device)})
    assert client.ready["max_seq_len"] == TinyBundles.MAX_SEQ_LEN and client.ready["chat"] is True

    model = load_model(ckpt, dtype=torch.float32, max_seq_len=TinyBundles.MAX_SEQ_LEN)
    conv = Conversation(load_tokenizer(host_bundle))
    for text in (FIRST, SECOND):
        want = conv.expected(model, text, N)
        new = conv.new_ids(text)
        tokens, done = client.turn(*protocol_tool(classes, "prompt", text, str(N)))
        assert done["event"] == "done", done
        assert [t["id"] for t in tokens] == done["tokens"] == want
        assert done["prompt_tokens"] == len(new)  # the cache kept the first turn: only new ids prefilled
        conv.add_turn(text, want)
        assert done["position"] == len(conv.ids)
        assert client.proc.poll() is None  # the same process answers the next turn

    # The stop button's line, sent with a prompt: the answer ends at its first token.
    tokens, done = client.turn(*protocol_tool(classes, "prompt", "And divide?", str(N)), *protocol_tool(classes, "stop"))
    assert (done["reason"], len(tokens)) == ("stop", 1)
    assert client.close() == 0
