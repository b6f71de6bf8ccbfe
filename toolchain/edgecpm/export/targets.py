"""Export targets as data: ``export/targets/<name>.toml`` in the repository (host, jetson, android).

A target is a recipe, not code: the CPU architecture the program runs on, where the edgecpm
kernel library for that architecture is built, and the command that builds it.
"""

from __future__ import annotations

import platform
import tomllib
from dataclasses import dataclass
from pathlib import Path

from edgecpm.errors import EdgecpmError

REPO_ROOT = Path(__file__).resolve().parents[3]
TARGETS_DIR = REPO_ROOT / "export" / "targets"


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
