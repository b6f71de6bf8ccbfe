from __future__ import annotations

import pytest
from typer.testing import CliRunner

from edgecpm.cli.app import app


@pytest.mark.slow
def test_demo_prints_text_eval_and_speed_table():
    r = CliRunner().invoke(app, ["demo", "-n", "8"])
    assert r.exit_code == 0, r.output
    assert "### generate" in r.output and "### quantize" in r.output and "### eval" in r.output
    assert "### export" in r.output and "kernels: " in r.output
    assert "| tiny-ternary TQ2_0 | ternary TQ2_0 g256 | 2.06 |" in r.output
    assert "| model | size | params | backend | threads | test | t/s |" in r.output
    assert "| pp64 |" in r.output and "| tg32 |" in r.output
    for backend in ("torch-eager", "executorch (python) + ", "edgecpm-runner (C++) + "):
        assert backend in r.output
