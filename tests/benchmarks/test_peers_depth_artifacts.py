"""The depth bundles' checkpoint: the ternary one's files with the 8B preset's sparse_config added."""

from __future__ import annotations

import json
from dataclasses import asdict

from benchmarks.peers_depth_artifacts import sparse_checkpoint
from edgecpm.model.presets import preset


def test_the_sparse_checkpoint_is_the_ternary_one_plus_the_8b_sparse_config(tmp_path):
    ternary = tmp_path / "ternary"
    ternary.mkdir()
    (ternary / "config.json").write_text(json.dumps({"hidden_size": 1024, "num_hidden_layers": 24}))
    (ternary / "model.safetensors").write_bytes(b"weights")
    out = sparse_checkpoint(ternary, tmp_path / "ternary-8b-sparse", fresh=False)
    config = json.loads((out / "config.json").read_text())
    assert config["sparse_config"] == asdict(preset("minicpm4-8b").sparse_config)
    assert config["sparse_config"]["dense_len"] == 8192 and config["hidden_size"] == 1024
    assert (out / "model.safetensors").read_bytes() == b"weights"
    assert "sparse_config" not in json.loads((ternary / "config.json").read_text())   # the source is untouched
    (ternary / "model.safetensors").write_bytes(b"other")
    sparse_checkpoint(ternary, out, fresh=False)   # cached: kept as made
    assert (out / "model.safetensors").read_bytes() == b"weights"
    sparse_checkpoint(ternary, out, fresh=True)
    assert (out / "model.safetensors").read_bytes() == b"other"
