"""A draft head with quantized linears (draft_quant.py), and FR-Spec rows of a quantized LM head."""

from __future__ import annotations

import pytest
import torch

from edgecpm.errors import ConfigError
from edgecpm.quant.linear import Int4Linear, Int8Linear, quantize_table
from edgecpm.speculative.draft_quant import quantize_draft
from tests.speculative.helpers import random_base, random_draft


def quantized_head_base(kind: str):
    base = random_base()
    t = quantize_table(base.lm_head.weight.detach(), kind)
    if kind == "int8":
        base.lm_head = Int8Linear(t["qweight"], t["scales"])
    else:
        k = base.config.hidden_size
        base.lm_head = Int4Linear(k, base.config.vocab_size, t["qweight"], t["scales"], None, 32)
    return base


@pytest.mark.parametrize("kind", ["int8", "int4"])
def test_frspec_rows_of_a_quantized_head_equal_its_full_logits(kind):
    base = quantized_head_base(kind)
    draft = random_draft(base)
    hidden = torch.randn(3, base.config.hidden_size)
    full = draft.logits(hidden)
    ids = torch.tensor([2, 40, 7, 95, 11])
    draft.set_vocab(ids)
    # Only the chosen rows are kept (still quantized), and each row's logit is the same number.
    assert draft._head_subset is not None and draft._head_subset.qweight.shape[0] == 5
    assert torch.equal(draft.logits(hidden), full[:, ids])


@pytest.mark.parametrize("scheme, tol", [("int8", 0.02), ("int4", 0.25)])
def test_quantized_draft_stays_close_to_the_float_one(scheme, tol):
    base = random_base()
    draft = random_draft(base, std=0.1)
    tokens, hidden = torch.tensor([[5, 7, 9]]), torch.randn(1, 3, base.config.hidden_size)
    want = draft(tokens, hidden)
    done = quantize_draft(draft, scheme)
    assert "fc" in done and "layer.mlp.down_proj" in done and len(done) == 8
    assert not any(isinstance(m, torch.nn.Linear) for m in draft.modules())
    got = draft.bind(base)(tokens, hidden)
    assert (got - want).norm() / want.norm() < tol


def test_fp32_leaves_the_draft_and_unknown_schemes_are_refused():
    base = random_base()
    draft = random_draft(base)
    assert quantize_draft(draft, "fp32") == []
    with pytest.raises(ConfigError, match="choose one of fp32, int8, int4"):
        quantize_draft(draft, "int2")
