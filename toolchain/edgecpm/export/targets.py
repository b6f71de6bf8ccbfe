"""Export targets as data: ``targets/<name>.toml`` beside this file (host, jetson, android), package
data of the installed edgecpm (``export/targets`` at the top of the checkout links here).

A target is a recipe, not code: the CPU architecture the program runs on, where the edgecpm
kernel library for that architecture is built, and the command that builds it. Build folders are
relative to the checkout; an installed edgecpm, which has none, names its host library with
EDGECPM_KERNELS_LIB.
"""

from __future__ import annotations

import os
import platform
import tomllib
from dataclasses import dataclass
from pathlib import Path

from edgecpm.errors import EdgecpmError
from edgecpm.export.pte_manifest import LIBRARY_NAME

REPO_ROOT = Path(__file__).resolve().parents[3]   # the checkout, where `make kernels` builds
TARGETS_DIR = Path(__file__).resolve().parent / "targets"
KERNELS_LIB_ENV = "EDGECPM_KERNELS_LIB"


@dataclass(frozen=True)
class Target:
    name: str
    description: str
    arch: str           # "native" or a machine name as platform.machine() spells it
    kernel_dir: Path    # absolute
    kernel_build: str   # the command that builds the kernel library
    max_seq_len: int

    @property
    def machine(self) -> str:
        return platform.machine() if self.arch == "native" else self.arch

    @property
    def runs_here(self) -> bool:
        return self.machine == platform.machine()

    @property
    def kernel_library(self) -> Path:
        """The library a program for this target runs on (and its bundle carries): for the host,
        EDGECPM_KERNELS_LIB when set; else the one the build folder holds."""
        env = os.environ.get(KERNELS_LIB_ENV)
        if env and self.name == "host":
            return Path(env)
        return self.kernel_dir / LIBRARY_NAME


def target_names() -> list[str]:
    return sorted(p.stem for p in TARGETS_DIR.glob("*.toml"))


def load_target(name: str) -> Target:
    path = TARGETS_DIR / f"{name}.toml"
    if not path.is_file():
        raise EdgecpmError(f"--target {name}: no recipe {path}; choose one of: {', '.join(target_names())}")
    try:
        raw = tomllib.loads(path.read_text())
        return Target(name=raw["name"], description=raw["description"], arch=raw["arch"],
                      kernel_dir=REPO_ROOT / raw["kernel_dir"], kernel_build=raw["kernel_build"],
                      max_seq_len=int(raw["max_seq_len"]))
    except (tomllib.TOMLDecodeError, KeyError, ValueError) as e:
        raise EdgecpmError(f"{path}: not a valid target recipe ({e!r}); compare it with host.toml") from None
