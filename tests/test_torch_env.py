from __future__ import annotations

import pytest

from edgecpm.errors import EnvironmentMismatch
from edgecpm.torch_env import require_executorch


def test_pins_hold_in_this_environment():
    assert require_executorch().__name__ == "executorch"


def test_wrong_torch_is_named(monkeypatch):
    import torch

    monkeypatch.setattr(torch, "__version__", "2.14.1+cpu")
    with pytest.raises(EnvironmentMismatch, match=r"torch 2.14.1\+cpu is installed.*pip install torch==2.13.0"):
        require_executorch()


def test_wrong_executorch_is_named(monkeypatch):
    import edgecpm.torch_env as env

    monkeypatch.setattr("importlib.metadata.version", lambda pkg: "1.6.0")
    with pytest.raises(EnvironmentMismatch, match="executorch 1.6.0 is installed, edgecpm needs 1.5.1"):
        env.require_executorch()
