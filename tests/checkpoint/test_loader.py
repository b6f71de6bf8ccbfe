"""Loading HF directories: layouts and dtypes that must work, and bad input that must be named."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from edgecpm.checkpoint.loader import load_model
from edgecpm.checkpoint.writer import INDEX_NAME, write_checkpoint
from edgecpm.errors import CheckpointError, ConfigError
from tests.conftest import make_checkpoint, small_config

IDS = torch.arange(3, 20).unsqueeze(0)


def _logits(path, **kw):
    return load_model(path, max_seq_len=32, **kw)(IDS)


def test_sharded_equals_single_file(tmp_path, untied_ckpt):
    model = load_model(untied_ckpt, max_seq_len=32)
    sharded = write_checkpoint(tmp_path / "sharded", model.config, model.state_dict().items(),
                               shard_bytes=40_000)
    index = json.loads((sharded / INDEX_NAME).read_text())
    assert len(set(index["weight_map"].values())) > 2
    assert torch.equal(_logits(sharded), _logits(untied_ckpt))


def test_tied_checkpoint_has_no_head_and_shares_storage(tied_ckpt):
    assert "lm_head.weight" not in load_file(tied_ckpt / "model.safetensors")
    model = load_model(tied_ckpt, max_seq_len=32)
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_checkpoints_load_in_their_dtype(tmp_path, dtype):
    path = make_checkpoint(tmp_path / "m", dtype=dtype)
    model = load_model(path, max_seq_len=32)
    assert model.model.layers[0].mlp.up_proj.weight.dtype == dtype
    assert model.model.layers[0].self_attn.kv_cache.k_cache.dtype == dtype
    # Upcast on load gives the same weights as the file holds.
    fp32 = load_model(path, dtype=torch.float32, max_seq_len=32)
    assert torch.equal(fp32.model.norm.weight, model.model.norm.weight.float())


def test_no_parameter_is_left_on_meta(tied_ckpt):
    model = load_model(tied_ckpt, max_seq_len=32)
    assert all(not t.is_meta for t in list(model.parameters()) + list(model.buffers()))


# ---- bad input: each names the file and the tensor ----

def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_missing_tensor(tmp_path, untied_ckpt):
    path = _copy(untied_ckpt, tmp_path / "m")
    tensors = load_file(path / "model.safetensors")
    del tensors["model.layers.1.mlp.down_proj.weight"]
    save_file(tensors, path / "model.safetensors")
    with pytest.raises(CheckpointError, match=r"tensor 'model.layers.1.mlp.down_proj.weight' is missing "
                                              r"from model.safetensors"):
        load_model(path)


def test_untied_config_without_head(tmp_path, tied_ckpt):
    path = _copy(tied_ckpt, tmp_path / "m")
    raw = json.loads((path / "config.json").read_text()) | {"tie_word_embeddings": False}
    (path / "config.json").write_text(json.dumps(raw))
    with pytest.raises(CheckpointError, match="'lm_head.weight' is missing"):
        load_model(path)


def test_shape_mismatch(tmp_path, tied_ckpt):
    path = _copy(tied_ckpt, tmp_path / "m")
    raw = json.loads((path / "config.json").read_text()) | {"intermediate_size": 128}
    (path / "config.json").write_text(json.dumps(raw))
    with pytest.raises(CheckpointError, match=r"model.safetensors: tensor 'model.layers.0.mlp.gate_proj.weight' "
                                              r"has shape \[160, 64\], but .*config.json implies \[128, 64\]"):
        load_model(path)


def test_truncated_file(tmp_path, tied_ckpt):
    path = _copy(tied_ckpt, tmp_path / "m")
    f = path / "model.safetensors"
    data = f.read_bytes()
    f.write_bytes(data[: len(data) - 1000])
    with pytest.raises(CheckpointError, match=r"model.safetensors: truncated: tensor '.*' needs data up to byte"):
        load_model(path)


def test_file_cut_inside_header(tmp_path, tied_ckpt):
    path = _copy(tied_ckpt, tmp_path / "m")
    f = path / "model.safetensors"
    f.write_bytes(f.read_bytes()[:50])
    with pytest.raises(CheckpointError, match="model.safetensors: corrupt or truncated header"):
        load_model(path)


def test_corrupt_header(tmp_path, tied_ckpt):
    path = _copy(tied_ckpt, tmp_path / "m")
    f = path / "model.safetensors"
    data = bytearray(f.read_bytes())
    data[8:12] = b"\xff\xfe!!"
    f.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="model.safetensors: header is not valid JSON"):
        load_model(path)


def test_wrong_byte_count_in_header(tmp_path, tied_ckpt):
    path = _copy(tied_ckpt, tmp_path / "m")
    f = path / "model.safetensors"
    data = f.read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    header["model.norm.weight"]["shape"] = [65]
    new = json.dumps(header, separators=(",", ":")).encode().ljust(n)
    assert len(new) == n
    f.write_bytes(data[:8] + new + data[8 + n:])
    with pytest.raises(CheckpointError, match=r"tensor 'model.norm.weight' \(F32 \[65\]\) spans 256 bytes, expected 260"):
        load_model(path)


def test_config_that_is_not_minicpm(tmp_path, tied_ckpt):
    path = _copy(tied_ckpt, tmp_path / "m")
    raw = json.loads((path / "config.json").read_text()) | {"architectures": ["Qwen3ForCausalLM"],
                                                             "model_type": "qwen3"}
    (path / "config.json").write_text(json.dumps(raw))
    with pytest.raises(ConfigError, match=r"m/config.json: not a MiniCPM4 config"):
        load_model(path)


def test_pickled_checkpoint_is_refused(tmp_path):
    path = tmp_path / "m"
    path.mkdir()
    (path / "config.json").write_text(json.dumps(small_config().to_hf_dict()))
    (path / "pytorch_model.bin").write_bytes(b"\x80\x04not unpickled")
    with pytest.raises(CheckpointError, match="only pickled weights.*never unpickles"):
        load_model(path)


def test_index_lists_missing_shard(tmp_path, untied_ckpt):
    model = load_model(untied_ckpt, max_seq_len=32)
    path = write_checkpoint(tmp_path / "s", model.config, model.state_dict().items(), shard_bytes=40_000)
    victim = sorted(path.glob("model-*.safetensors"))[1]
    victim.unlink()
    with pytest.raises(CheckpointError, match=f"lists shard\\(s\\) that are not in .*{victim.name}"):
        load_model(path)


def test_unexpected_tensor(tmp_path, tied_ckpt):
    path = _copy(tied_ckpt, tmp_path / "m")
    tensors = load_file(path / "model.safetensors")
    tensors["model.layers.7.mlp.up_proj.weight"] = torch.zeros(2, 2)
    save_file(tensors, path / "model.safetensors")
    with pytest.raises(CheckpointError, match="unexpected tensor 'model.layers.7.mlp.up_proj.weight'"):
        load_model(path)


def test_quantized_dtype_is_refused(tmp_path, tied_ckpt):
    path = _copy(tied_ckpt, tmp_path / "m")
    tensors = load_file(path / "model.safetensors")
    tensors["model.layers.0.mlp.up_proj.weight"] = torch.zeros(160, 64, dtype=torch.int8)
    save_file(tensors, path / "model.safetensors")
    with pytest.raises(CheckpointError, match="'model.layers.0.mlp.up_proj.weight' is I8; expected a float"):
        load_model(path)


def test_not_a_directory(tmp_path):
    with pytest.raises(CheckpointError, match="not a directory"):
        load_model(tmp_path / "absent")
