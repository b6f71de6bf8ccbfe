"""Which LongRoPE factor set a call uses, as the official ``MiniCPMLongRoPE`` decides it: from the
call's length (max position + 1, the cache before it included), never from the KV-cache size.

The config here has max_position_embeddings == original_max_position_embeddings (64) and
short != long factors, so lengths up to 64 rotate with the short set and longer ones with the
long set. The reference is ``spec_logits`` (test_forward.py), which shares no code with the model.
"""

from __future__ import annotations

import torch

from edgecpm.checkpoint.loader import load_model
from tests.conftest import make_checkpoint, small_config
from tests.model.test_export import Step
from tests.model.test_forward import spec_logits

ORIGINAL = 64


def ids(n: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 96, (1, n), generator=torch.Generator().manual_seed(seed))


def checkpoint(tmp_path):
    cfg = small_config(long_rope=False)
    assert cfg.max_position_embeddings == cfg.rope_scaling.original_max_position_embeddings == ORIGINAL
    assert cfg.rope_scaling.short_factor != cfg.rope_scaling.long_factor
    return make_checkpoint(tmp_path / "m", cfg)


def test_logits_do_not_depend_on_the_cache_size(tmp_path):
    path = checkpoint(tmp_path)
    prompt = ids(29)
    small, large = load_model(path, max_seq_len=64), load_model(path, max_seq_len=96)
    want = spec_logits(small.state_dict(), small.config, prompt[0])  # 29 <= 64: the short set
    for model in (small, large):
        assert (model(prompt)[0] - want).abs().max().item() <= 1e-4
        assert (model(prompt, torch.arange(29))[0] - want).abs().max().item() <= 1e-4


def test_a_call_past_the_original_window_rotates_every_row_with_the_long_set(tmp_path):
    model = load_model(checkpoint(tmp_path), max_seq_len=96)
    prompt = ids(70, seed=1)
    want = spec_logits(model.state_dict(), model.config, prompt[0], long_rows=torch.ones(70, dtype=torch.bool))
    assert (model(prompt)[0] - want).abs().max().item() <= 1e-4
    assert (model(prompt, torch.arange(70))[0] - want).abs().max().item() <= 1e-4


def steps(model, prompt, prefill: int):
    """Prefill ``prefill`` tokens, then decode the rest one at a time."""
    out = [model(prompt[:, :prefill], torch.arange(prefill))]
    out += [model(prompt[:, i:i + 1], torch.tensor([i])) for i in range(prefill, prompt.shape[1])]
    return torch.cat(out, 1)[0]


def test_decode_crossing_the_window_keeps_the_cached_keys_rotation(tmp_path):
    """Prefill 60 (short set), then decode to 70: from position 64 on (length 65 > 64) each call
    rotates its own query and key with the long set; the 60 prefill keys keep the short one, as
    in the official cache, which stores rotated keys."""
    model = load_model(checkpoint(tmp_path), max_seq_len=96)
    prompt = ids(70, seed=2)
    long_rows = torch.arange(70) + 1 > ORIGINAL
    want = spec_logits(model.state_dict(), model.config, prompt[0], long_rows=long_rows)
    got = steps(model, prompt, 60)
    assert (got - want).abs().max().item() <= 1e-4
    # Not the same as one call of 70 (every row long): the choice really is per call.
    assert (got - model(prompt)[0]).abs().max().item() > 1e-3


def test_the_exported_program_chooses_at_run_time(tmp_path):
    """One exported program serves both sides of the threshold: the choice is a tensor select on
    the call's positions inside the graph, not fixed at export time."""
    path = checkpoint(tmp_path)
    eager, exported = load_model(path, max_seq_len=96), load_model(path, max_seq_len=96)
    seq = torch.export.Dim("seq", min=1, max=96)
    program = torch.export.export(Step(exported), (ids(2), torch.arange(2)), dynamic_shapes=({1: seq}, {0: seq}),
                                  strict=False).module()
    prompt = ids(70, seed=3)
    with torch.no_grad():
        assert (steps(program, prompt, 60) - steps(eager, prompt, 60)).abs().max().item() <= 1e-5
        assert (program(prompt[:, :29], torch.arange(29))[0] - eager(prompt[:, :29])[0]).abs().max().item() <= 1e-5
