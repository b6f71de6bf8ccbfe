"""Tiny base models and draft heads for the speculative tests.

``oracle_pair`` builds a one-layer base model and a draft head that computes (to float rounding)
the same function: the draft's pair (hidden_j, x_{j+1}) at position j attends over the same
tokens as the base at position j+1, and rope only sees relative positions. So the draft predicts
the base's next token almost always, and verification accepts long paths: the compaction and
tree bookkeeping get exercised, not just the "reject everything" path a random draft takes.
"""

from __future__ import annotations

import copy
import math

import torch

from edgecpm.model.minicpm import MiniCPMForCausalLM
from edgecpm.speculative.draft import EagleDraft
from tests.conftest import small_config


def random_base(layers: int = 2, seed: int = 0, std: float = 0.3, max_seq_len: int = 160, vocab: int = 96):
    cfg = small_config()
    cfg.num_hidden_layers = layers
    cfg.vocab_size = vocab
    torch.manual_seed(seed)
    model = MiniCPMForCausalLM(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, std)
    model.setup_caches(max_seq_len)
    return model.eval()


def random_draft(base, seed: int = 1, std: float = 0.3) -> EagleDraft:
    torch.manual_seed(seed)
    draft = EagleDraft(base.config)
    with torch.no_grad():
        for p in draft.parameters():
            p.normal_(0, std)
    return draft.bind(base).eval()


def oracle_pair(seed: int = 0, max_seq_len: int = 160, vocab: int = 96):
    base = random_base(layers=1, seed=seed, max_seq_len=max_seq_len, vocab=vocab)
    cfg = base.config
    with torch.no_grad():
        # Every embedding row with the same RMS, so the draft's rmsnorm1 is a fixed rescale.
        emb = base.model.embed_tokens.weight
        emb.mul_(0.3 / emb.pow(2).mean(-1, keepdim=True).sqrt())
    draft = EagleDraft(copy.deepcopy(cfg))
    h = cfg.hidden_size
    with torch.no_grad():
        draft.norm_embed.weight.fill_(0.3 * cfg.scale_emb)
        draft.fc.weight.zero_()
        draft.fc.weight[:, :h] = torch.eye(h)
        draft.fc.bias.zero_()
        draft.layer.load_state_dict(base.model.layers[0].state_dict())
    draft.layer.residual_scale = cfg.scale_depth / math.sqrt(cfg.num_hidden_layers)
    return base, draft.bind(base).eval()
