"""sparse_config parsing: absent → None, the 8B defaults, and bad values named with their file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgecpm.errors import ConfigError
from edgecpm.attention.sparse_config import SparseConfig
from edgecpm.model.config import MiniCPMConfig
from edgecpm.model.presets import preset
from tests.conftest import MINICPM4_05B, small_config


def write_config(path: Path, sparse) -> Path:
    raw = small_config().to_hf_dict()
    raw["sparse_config"] = sparse
    path.write_text(json.dumps(raw))
    return path


def test_absent_is_none_and_8b_presets_carry_the_documented_defaults():
    assert preset("minicpm4-0.5b").sparse_config is None
    assert small_config().sparse_config is None
    if (MINICPM4_05B / "config.json").is_file():
        assert MiniCPMConfig.from_json_file(MINICPM4_05B / "config.json").sparse_config is None
    for name in ("minicpm4-8b", "minicpm4.1-8b"):
        assert preset(name).sparse_config == SparseConfig(
            kernel_size=32, kernel_stride=16, init_blocks=1, block_size=64, window_size=2048, topk=64,
            use_nope=False, dense_len=8192)


def test_round_trip(tmp_path):
    sc = {"kernel_size": 4, "kernel_stride": 2, "init_blocks": 1, "block_size": 8, "window_size": 16,
          "topk": 3, "use_nope": False, "dense_len": -1, "some_future_field": 1}
    cfg = MiniCPMConfig.from_json_file(write_config(tmp_path / "config.json", sc))
    assert cfg.sparse_config == SparseConfig(4, 2, 1, 8, 16, 3, False, -1)
    again = MiniCPMConfig.from_hf_dict(cfg.to_hf_dict())
    assert again.sparse_config == cfg.sparse_config


@pytest.mark.parametrize("change,message", [
    ({"kernel_stride": 0}, r"sparse_config\.kernel_stride must be an integer >= 1, got 0"),
    ({"block_size": 64.0}, r"sparse_config\.block_size must be an integer >= 1, got 64\.0"),
    ({"dense_len": -2}, r"sparse_config\.dense_len must be an integer >= -1"),
    ({"window_size": 100}, r"sparse_config\.window_size 100 is not a multiple of block_size 64"),
    ({"topk": 1}, r"sparse_config\.topk 1 leaves no room beside the 1 init block"),
    ({"use_nope": True}, r"sparse_config\.use_nope True is not supported"),
])
def test_bad_values_name_the_file_and_field(tmp_path, change, message):
    sc = {"kernel_size": 32, "kernel_stride": 16, "init_blocks": 1, "block_size": 64, "window_size": 2048,
          "topk": 64, "use_nope": False, "dense_len": 8192, **change}
    path = write_config(tmp_path / "config.json", sc)
    with pytest.raises(ConfigError, match=rf"{path}: {message}"):
        MiniCPMConfig.from_json_file(path)


def test_not_an_object(tmp_path):
    path = write_config(tmp_path / "config.json", [32, 16])
    with pytest.raises(ConfigError, match=rf"{path}: sparse_config must be an object"):
        MiniCPMConfig.from_json_file(path)
