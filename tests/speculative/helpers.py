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


class ProgramForward:
    """A program's plain ``forward`` behind the interface ``generate`` uses."""

    def __init__(self, program, max_seq_len: int):
        self._forward = program.load_method("forward")
        self.max_seq_len = max_seq_len

    def reset_caches(self):
        pass

    def __call__(self, tokens, input_pos):
        return self._forward.execute([tokens, input_pos])[0]


def lower_spec_program(path, base, draft, max_seq_len: int, in_place: bool = False):
    """``base`` with ``draft`` (and its FR-Spec subset, as set) lowered with the speculative methods,
    written to ``path`` and loaded: (its ``forward``, ``PteSpecBase``, ``PteSpecDraft``). ``in_place``:
    the base side calls ``verify_in_place`` when nothing moves (else ``verify`` always)."""
    from executorch.runtime import Runtime

    from edgecpm.export.pte import lower_model
    from edgecpm.export.spec_chunk import SPEC_CHUNK
    from edgecpm.export.spec_methods import spec_programs
    from edgecpm.runtime.spec_program import PteSpecBase, PteSpecDraft

    program, _ = lower_model(base, max_seq_len, extra_methods=spec_programs(base, draft, max_seq_len))
    path.write_bytes(program.buffer)
    loaded = Runtime.get().load_program(str(path))
    chunk = min(SPEC_CHUNK, max_seq_len)
    ids = None if draft.vocab_ids is None else draft.vocab_ids.tolist()
    return (ProgramForward(loaded, max_seq_len),
            PteSpecBase(loaded, base.config, max_seq_len, chunk, in_place=in_place),
            PteSpecDraft(loaded, base.config, max_seq_len, chunk, ids))


def greedy_equals_plain(plain_model, base, draft, spec, prompts: list[list[int]], new: int) -> float:
    """Asserts that each prompt's speculative greedy tokens (``base`` + ``draft``) are
    ``plain_model``'s plain greedy tokens (EOS 2 stops both); returns tokens per verify step."""
    from edgecpm.generate import generate
    from edgecpm.speculative.decode import speculative_generate

    steps = emitted = 0
    for prompt in prompts:
        want = generate(plain_model, prompt, new, eos_ids=[2]).tokens
        got = speculative_generate(base, draft, prompt, new, spec=spec, eos_ids=[2])
        assert got.tokens == want, f"{spec.mode}: prompt {prompt}"
        steps += got.verify_steps
        emitted += sum(got.accepted_per_step)
    return emitted / steps
