"""Stacked linears (quant/concat.py) give the separate linears' outputs to the bit, and a model
with its projections fused (what `edgecpm export` lowers) gives the unfused model's logits."""

from __future__ import annotations

import torch
from torch import nn

from edgecpm.checkpoint.loader import load_model
from edgecpm.checkpoint.locate import resolve_model
from edgecpm.model.minicpm import fuse_projections
from edgecpm.quant.concat import concat_linears
from edgecpm.quant.config import Int4Config, TernaryConfig
from edgecpm.quant.linear import Int4Linear, TernaryLinear


def weights(seed: int, rows: list[int], k: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, k, generator=g) * 0.05 for n in rows]


def test_stacked_outputs_equal_separate_outputs():
    rows, k = [64, 32, 32], 512
    x = torch.randn(1, 3, k, generator=torch.Generator().manual_seed(9))
    kinds = {
        "float": [nn.Linear(k, n, bias=False) for n in rows],
        "ternary g128": [TernaryLinear.from_float(w, TernaryConfig(group_size=128)) for w in weights(1, rows, k)],
        "ternary tq1_0": [TernaryLinear.from_float(w, TernaryConfig(group_size=256, layout="tq1_0"))
                          for w in weights(2, rows, k)],
        "int4 asym g64": [Int4Linear.from_float(w, Int4Config(group_size=64, symmetric=False))
                          for w in weights(3, rows, k)],
    }
    for kind, linears in kinds.items():
        stacked = concat_linears(linears)
        assert stacked is not None, kind
        with torch.no_grad():
            assert torch.equal(stacked(x), torch.cat([m(x) for m in linears], -1)), kind


def test_mixed_kinds_are_not_stacked():
    w = weights(4, [32, 32], 256)
    assert concat_linears([TernaryLinear.from_float(w[0], TernaryConfig(group_size=256)),
                           Int4Linear.from_float(w[1], Int4Config(group_size=32))]) is None
    assert concat_linears([Int4Linear.from_float(w[0], Int4Config(group_size=32)),
                           Int4Linear.from_float(w[1], Int4Config(group_size=64))]) is None


def test_fused_model_gives_the_same_logits():
    model = load_model(resolve_model("tiny-ternary"), dtype=torch.float32, max_seq_len=32)
    ids = torch.tensor([[1, 604, 322, 1290, 2000]])
    with torch.no_grad():
        want = model(ids, torch.arange(5))
        fuse_projections(model.model.layers)
        assert model.model.layers[0].self_attn.qkv_proj is not None and model.model.layers[0].mlp.gate_up_proj is not None
        assert torch.equal(model(ids, torch.arange(5)), want)
