from __future__ import annotations

import json

import pytest

from edgecpm.errors import ConfigError
from edgecpm.model.config import MiniCPMConfig
from edgecpm.model.presets import PRESETS, preset
from tests.conftest import MINICPM4_05B


def test_real_05b_config_reads_every_field():
    path = MINICPM4_05B / "config.json"
    if not path.is_file():
        pytest.skip(f"{path} not available")
    cfg = MiniCPMConfig.from_json_file(path)
    assert (cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers) == (1024, 4096, 24)
    assert (cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim) == (16, 2, 64)
    assert cfg.vocab_size == 73448 and cfg.eos_token_id == [2, 73440] and cfg.bos_token_id == 1
    assert (cfg.scale_emb, cfg.dim_model_base, cfg.scale_depth) == (12, 256, 1.4)
    assert cfg.tie_word_embeddings and cfg.rms_norm_eps == 1e-5
    assert len(cfg.rope_scaling.short_factor) == 32
    assert cfg.rope_scaling.original_max_position_embeddings == 32768
    # The preset is the same model.
    p = preset("minicpm4-0.5b")
    assert p.rope_scaling.short_factor == cfg.rope_scaling.short_factor
    assert p.num_parameters == cfg.num_parameters


def test_round_trip_through_hf_dict():
    for name in PRESETS:
        cfg = preset(name)
        again = MiniCPMConfig.from_hf_dict(json.loads(json.dumps(cfg.to_hf_dict())))
        assert again == cfg, name


def test_parameter_counts_are_plausible():
    assert 0.4e9 < preset("minicpm4-0.5b").num_parameters < 0.6e9
    assert 7.5e9 < preset("minicpm4-8b").num_parameters < 8.5e9


def _write(tmp_path, raw):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(raw))
    return path


def test_not_minicpm_config_is_refused(tmp_path):
    raw = preset("tiny").to_hf_dict() | {"architectures": ["LlamaForCausalLM"], "model_type": "llama"}
    with pytest.raises(ConfigError, match=r"config\.json: not a MiniCPM4 config.*LlamaForCausalLM"):
        MiniCPMConfig.from_json_file(_write(tmp_path, raw))


def test_minicpm3_mla_config_is_refused(tmp_path):
    raw = preset("tiny").to_hf_dict() | {"q_lora_rank": 768, "kv_lora_rank": 256}
    with pytest.raises(ConfigError, match="MiniCPM3 .*latent attention"):
        MiniCPMConfig.from_json_file(_write(tmp_path, raw))


def test_missing_field_is_named(tmp_path):
    raw = preset("tiny").to_hf_dict()
    del raw["scale_depth"]
    with pytest.raises(ConfigError, match="missing required MiniCPM4 field.*scale_depth"):
        MiniCPMConfig.from_json_file(_write(tmp_path, raw))


def test_bad_rope_factor_length(tmp_path):
    raw = preset("tiny").to_hf_dict()
    raw["rope_scaling"]["long_factor"] = [1.0] * 5
    with pytest.raises(ConfigError, match="long_factor has 5 entries, expected head_dim/2 = 32"):
        MiniCPMConfig.from_json_file(_write(tmp_path, raw))


def test_gqa_must_divide(tmp_path):
    raw = preset("tiny").to_hf_dict() | {"num_key_value_heads": 3}
    with pytest.raises(ConfigError, match="not a multiple of num_key_value_heads 3"):
        MiniCPMConfig.from_json_file(_write(tmp_path, raw))


def test_invalid_json_and_missing_file(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match="config.json: not valid JSON"):
        MiniCPMConfig.from_json_file(tmp_path / "config.json")
    with pytest.raises(ConfigError, match="nope/config.json: no such file"):
        MiniCPMConfig.from_json_file(tmp_path / "nope" / "config.json")


def test_unknown_preset():
    with pytest.raises(ConfigError, match="unknown preset 'minicpm5'.*minicpm4-8b"):
        preset("minicpm5")
