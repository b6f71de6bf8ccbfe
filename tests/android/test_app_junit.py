"""The Android app's logic (android_demo/app/src/main/java/org/edgecpm/demo/core: JSON, settings,
the runner's command line, the line protocol, stream events, live stats, the bundle manifest, the
chat session) under its JUnit tests on the host JVM. Those classes import no android.* (the
framework jar only throws "Stub!" off a phone)."""

from __future__ import annotations

import subprocess

import pytest

from tests.android.app_build import APP, CORE, JUNIT_JARS, compile_classes, jdk_missing


def test_core_classes_import_no_android():
    for source in CORE.glob("*.java"):
        assert "import android." not in source.read_text(), f"{source} imports android.*: move that code out of core/"


def test_junit(tmp_path):
    if (why := jdk_missing()) is not None:
        pytest.skip(why)
    classes = compile_classes(tmp_path / "classes", with_tests=True)
    tests = sorted(p.stem for p in (APP / "test" / "java" / "org" / "edgecpm" / "demo" / "core").glob("*Test.java"))
    assert len(tests) >= 8
    res = subprocess.run(["java", "-cp", ":".join([str(classes), *map(str, JUNIT_JARS)]), "org.junit.runner.JUnitCore",
                          *[f"org.edgecpm.demo.core.{t}" for t in tests]], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert "OK (" in res.stdout
