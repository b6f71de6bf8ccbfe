"""The app's Java sources compiled for the host JVM: its android-free classes (core/) and their
JUnit tests. The JUnit run and the fake-device test both use the classes, so what they test is
what the APK carries."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import REPO

APP = REPO / "android_demo" / "app" / "src"
CORE = APP / "main" / "java" / "org" / "edgecpm" / "demo" / "core"
JUNIT_JARS = [Path("/usr/share/java/junit4.jar"), Path("/usr/share/java/hamcrest-core.jar")]


def jdk_missing() -> str | None:
    """Why the JVM tests cannot run here, or None."""
    if shutil.which("javac") is None or shutil.which("java") is None:
        return "no JDK (javac/java): apt-get install default-jdk-headless (see .ci/run)"
    return None


def compile_classes(out: Path, with_tests: bool) -> Path:
    sources = sorted(CORE.glob("*.java"))
    classpath = []
    if with_tests:
        missing = [str(j) for j in JUNIT_JARS if not j.is_file()]
        assert not missing, f"{', '.join(missing)} missing: apt-get install junit4 (see .ci/run)"
        sources += sorted((APP / "test" / "java").rglob("*.java"))
        classpath = ["-cp", ":".join(map(str, JUNIT_JARS))]
    res = subprocess.run(["javac", "--release", "8", "-Xlint:-options", "-encoding", "UTF-8", "-d", str(out),
                          *classpath, *map(str, sources)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return out


def protocol_tool(classes: Path, *args: str) -> list[str]:
    """Lines printed by the app's ProtocolTool: its command line or stdin lines, not a copy."""
    res = subprocess.run(["java", "-cp", str(classes), "org.edgecpm.demo.core.ProtocolTool", *args],
                         capture_output=True, text=True, timeout=120, check=True)
    return res.stdout.splitlines()
