"""Logits against the official MiniCPM4 modeling code, used as a local oracle.

The official ``modeling_minicpm.py`` is third-party code we do not commit. To run this test, put a
torch-only extraction of it somewhere and point ``EDGECPM_OFFICIAL_MINICPM`` at the file; it must
define ``official_logits(model_dir, input_ids) -> fp32 logits``. Without it the test is skipped
(the from-the-spec reference in test_forward.py always runs).
"""

from __future__ import annotations

import importlib.util
import os

import pytest
import torch

from edgecpm.checkpoint.loader import load_model
from tests.conftest import make_checkpoint, small_config

ORACLE = os.environ.get("EDGECPM_OFFICIAL_MINICPM")


@pytest.fixture(scope="module")
def official():
    if not ORACLE or not os.path.isfile(ORACLE):
        pytest.skip("set EDGECPM_OFFICIAL_MINICPM to a torch-only copy of the official modeling file")
    spec = importlib.util.spec_from_file_location("official_minicpm", ORACLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("tied", [True, False])
@pytest.mark.parametrize("long_rope", [True, False])
def test_logits_match_official(tmp_path, official, tied, long_rope):
    path = make_checkpoint(tmp_path / "m", small_config(tied=tied, long_rope=long_rope))
    ids = torch.randint(0, 96, (2, 29), generator=torch.Generator().manual_seed(0))
    ours = load_model(path, dtype=torch.float32, max_seq_len=64)(ids)
    theirs = official.official_logits(str(path), ids)
    assert (ours - theirs).abs().max().item() <= 1e-4
