"""The forward math of MINICPM4.md §2, against a from-the-spec reference written here.

The reference is deliberately naive (per-head loops, explicit softmax, no cache) and shares no
code with ``edgecpm.model``; the official modeling file is the other oracle
(``test_official_oracle.py``).
"""

from __future__ import annotations

import math

import pytest
import torch

from edgecpm.checkpoint.loader import load_model
from tests.conftest import make_checkpoint, small_config


def spec_logits(sd: dict, cfg, ids: torch.Tensor, long_rows: torch.Tensor | None = None) -> torch.Tensor:
    """MiniCPM4 forward written straight from MINICPM4.md §2, fp32, one sequence.

    ``long_rows`` [T] bool: which positions rotate (query and key) with the long factors; default:
    all of them iff the sequence's length selects the long set. Per position, so a sequence fed
    in several calls can be checked: each token is rotated with the set of the call it came in,
    and keys keep it in the cache (causal attention reads no later key)."""
    h_dim, n_h, n_kv = cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads
    d = h_dim // n_h
    T = ids.numel()

    def rms(x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + cfg.rms_norm_eps) * w

    rs = cfg.rope_scaling
    inv = 1.0 / cfg.rope_theta ** (torch.arange(0, d, 2).float() / d)
    if long_rows is None:
        long_rows = torch.full((T,), max(cfg.max_position_embeddings, T) > rs.original_max_position_embeddings)
    scale = cfg.max_position_embeddings / rs.original_max_position_embeddings
    mscale = math.sqrt(1 + math.log(scale) / math.log(rs.original_max_position_embeddings))

    def table(factors):
        ang = torch.arange(T).float()[:, None] * (inv / torch.tensor(factors))[None, :]
        return torch.cat([ang.cos(), ang.cos()], -1) * mscale, torch.cat([ang.sin(), ang.sin()], -1) * mscale

    (cos_s, sin_s), (cos_l, sin_l) = table(rs.short_factor), table(rs.long_factor)
    cos = torch.where(long_rows[:, None], cos_l, cos_s)
    sin = torch.where(long_rows[:, None], sin_l, sin_s)

    def rope(x):  # x [T, d]
        x1, x2 = x[:, : d // 2], x[:, d // 2:]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    h = sd["model.embed_tokens.weight"][ids] * cfg.scale_emb
    res = cfg.scale_depth / math.sqrt(cfg.num_hidden_layers)
    for i in range(cfg.num_hidden_layers):
        p = f"model.layers.{i}."
        x = rms(h, sd[p + "input_layernorm.weight"])
        q = (x @ sd[p + "self_attn.q_proj.weight"].T).view(T, n_h, d)
        k = (x @ sd[p + "self_attn.k_proj.weight"].T).view(T, n_kv, d)
        v = (x @ sd[p + "self_attn.v_proj.weight"].T).view(T, n_kv, d)
        heads = []
        for head in range(n_h):
            kv = head // (n_h // n_kv)
            qh, kh = rope(q[:, head]), rope(k[:, kv])
            s = qh @ kh.T / math.sqrt(d)
            s = s.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf"))
            heads.append(torch.softmax(s, -1) @ v[:, kv])
        h = h + torch.cat(heads, -1) @ sd[p + "self_attn.o_proj.weight"].T * res
        x = rms(h, sd[p + "post_attention_layernorm.weight"])
        gate = x @ sd[p + "mlp.gate_proj.weight"].T
        up = x @ sd[p + "mlp.up_proj.weight"].T
        h = h + (torch.nn.functional.silu(gate) * up) @ sd[p + "mlp.down_proj.weight"].T * res
    h = rms(h, sd["model.norm.weight"])
    head = sd.get("lm_head.weight", sd["model.embed_tokens.weight"])
    return (h / (cfg.hidden_size / cfg.dim_model_base)) @ head.T


@pytest.mark.parametrize("tied", [True, False])
@pytest.mark.parametrize("long_rope", [True, False])
def test_forward_matches_spec(tmp_path, tied, long_rope):
    cfg = small_config(tied=tied, long_rope=long_rope)
    model = load_model(make_checkpoint(tmp_path / "m", cfg), max_seq_len=64)
    ids = torch.randint(0, cfg.vocab_size, (1, 23), generator=torch.Generator().manual_seed(3))
    got = model(ids)[0]
    want = spec_logits(model.state_dict(), model.config, ids[0])
    assert got.dtype == torch.float32
    assert (got - want).abs().max().item() <= 1e-4


@pytest.mark.parametrize("tied", [True, False])
def test_cached_decode_equals_full_forward(tmp_path, tied):
    model = load_model(make_checkpoint(tmp_path / "m", small_config(tied=tied)), max_seq_len=48)
    ids = torch.randint(0, 96, (1, 30), generator=torch.Generator().manual_seed(4))
    full = model(ids)
    # Prefill a chunk, then one token at a time, as generation does.
    steps = [model(ids[:, :11], torch.arange(11))]
    for i in range(11, 30):
        steps.append(model(ids[:, i:i + 1], torch.tensor([i])))
    assert (torch.cat(steps, 1) - full).abs().max().item() <= 1e-5


def test_stale_cache_slots_are_masked(tmp_path):
    """A second, shorter sequence must not see the first one's keys left in the cache."""
    model = load_model(make_checkpoint(tmp_path / "m"), max_seq_len=32)
    a = torch.randint(0, 96, (1, 20), generator=torch.Generator().manual_seed(5))
    b = torch.randint(0, 96, (1, 6), generator=torch.Generator().manual_seed(6))
    model(a, torch.arange(20))
    again = model(b, torch.arange(6))
    assert (again - model(b)).abs().max().item() <= 1e-5


def test_bf16_forward_is_close_to_fp32(tied_ckpt):
    fp32 = load_model(tied_ckpt, dtype=torch.float32, max_seq_len=32)
    bf16 = load_model(tied_ckpt, dtype=torch.bfloat16, max_seq_len=32)
    ids = torch.randint(0, 96, (1, 16), generator=torch.Generator().manual_seed(7))
    a, b = fp32(ids), bf16(ids)
    assert b.dtype == torch.float32  # logits are always returned in fp32
    assert (a - b).abs().max().item() < 0.1 * a.abs().max().item()
