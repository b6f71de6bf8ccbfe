"""The draft head: §6's math, its files, and the EAGLE/CPM.cu weight-name mapping."""

from __future__ import annotations

import json
import math

import pytest
import torch
from safetensors.torch import save_file

from edgecpm.errors import CheckpointError
from edgecpm.speculative.draft import EagleDraft, load_draft, native_name, save_draft
from tests.speculative.helpers import random_base, random_draft


def test_forward_is_section_6():
    base = random_base()
    draft = random_draft(base)
    cfg = base.config
    tokens, hidden = torch.tensor([[5, 7, 9]]), torch.randn(1, 3, cfg.hidden_size)
    # Written out from MINICPM4.md §6, with the layer's own residual scale sqrt(L + 1).
    assert draft.layer.residual_scale == pytest.approx(cfg.scale_depth / math.sqrt(cfg.num_hidden_layers + 1))
    e = draft.norm_embed(base.model.embed_tokens(tokens) * cfg.scale_emb)
    h = draft.fc(torch.cat([e, draft.norm_hidden(hidden)], -1))
    h = draft.layer(h, *base.rope.first(3))
    want = base.lm_head(base.model.norm(h) / cfg.logit_divisor)
    got = draft.logits(draft(tokens, hidden))
    torch.testing.assert_close(got, want)
    # The cache path gives the same as the cache-free one.
    draft.reset_cache()
    torch.testing.assert_close(draft(tokens, hidden, torch.arange(3)), draft(tokens, hidden))
    # The shared tensors are the base's and are not saved with the draft.
    assert not any(k.startswith(("model.", "lm_head", "embed")) for k in draft.state_dict())


def test_frspec_head_uses_only_its_rows():
    base = random_base()
    draft = random_draft(base)
    hidden = torch.randn(2, base.config.hidden_size)
    full = draft.logits(hidden)
    ids = torch.tensor([2, 40, 7, 95])
    draft.set_vocab(ids)
    assert draft._head_rows.shape == (4, base.config.hidden_size)
    torch.testing.assert_close(draft.logits(hidden), full[:, ids])
    assert draft.to_full_ids(torch.tensor([1, 3])).tolist() == [40, 95]


def test_save_load_round_trip(tmp_path):
    base = random_base()
    draft = random_draft(base)
    save_draft(draft, tmp_path / "d", extra={"training": {"note": "test"}})
    meta = json.loads((tmp_path / "d" / "draft.json").read_text())
    assert meta["format"] == "edgecpm-eagle-draft" and meta["training"]["note"] == "test"
    loaded = load_draft(tmp_path / "d", base.config)
    for k, v in draft.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v)
    with pytest.raises(FileExistsError):
        save_draft(draft, tmp_path / "d")


def _eagle_names(draft: EagleDraft) -> dict[str, torch.Tensor]:
    rename = {"norm_embed.weight": "input_norm1.weight", "norm_hidden.weight": "input_norm2.weight"}
    out = {}
    for k, v in draft.state_dict().items():
        out["layers.0." + k[len("layer."):] if k.startswith("layer.") else rename.get(k, k)] = v.clone()
    return out


def test_eagle_style_checkpoint_loads(tmp_path):
    base = random_base()
    draft = random_draft(base)
    tensors = _eagle_names(draft)
    tensors["embed_tokens.weight"] = torch.zeros(96, 64)   # shared with the base: dropped
    save_file(tensors, str(tmp_path / "model.safetensors"))
    loaded = load_draft(tmp_path, base.config)
    assert torch.equal(loaded.fc.weight, draft.fc.weight)
    assert native_name("midlayer.mlp.up_proj.weight") == "layer.mlp.up_proj.weight"
    assert native_name("lm_head.weight") is None


def test_mismatch_names_file_and_keys(tmp_path):
    base = random_base()
    tensors = _eagle_names(random_draft(base))
    del tensors["layers.0.input_layernorm.weight"]   # an EAGLE-1 Llama head lacks it
    tensors["layers.0.self_attn.rotary_emb.inv_freq"] = torch.zeros(8)
    path = tmp_path / "eagle.safetensors"
    save_file(tensors, str(path))
    with pytest.raises(CheckpointError) as e:
        load_draft(path, base.config)
    msg = str(e.value)
    assert str(path) in msg and "layer.input_layernorm.weight" in msg and "rotary_emb.inv_freq" in msg
    # A wrong shape names the tensor.
    tensors = _eagle_names(random_draft(base))
    tensors["fc.bias"] = torch.zeros(3)
    save_file(tensors, str(path))
    with pytest.raises(CheckpointError, match=r"fc.bias has shape \(3,\)"):
        load_draft(path, base.config)


def test_draft_for_another_base_or_corrupt_file_is_refused(tmp_path):
    base = random_base()
    save_draft(random_draft(base), tmp_path / "d")
    other = random_base(layers=3)
    with pytest.raises(CheckpointError, match="made for a base model"):
        load_draft(tmp_path / "d", other.config)
    with (tmp_path / "d" / "draft.safetensors").open("r+b") as f:
        f.seek(-4, 2)
        f.write(b"\x00\x01\x02\x03")
    with pytest.raises(CheckpointError, match="sha256"):
        load_draft(tmp_path / "d", base.config)
    with pytest.raises(CheckpointError, match="no such draft head"):
        load_draft(tmp_path / "nope", base.config)
