"""Greedy speculative decoding gives plain greedy decoding's tokens exactly.

50 prompts per drafting mode, with and without FR-Spec, on tiny random models: a random draft
(nearly every draft token rejected) and an oracle draft (long accepted paths, so KV compaction
and the tree bookkeeping are exercised).
"""

from __future__ import annotations

import pytest
import torch

from edgecpm.generate import generate
from edgecpm.runtime.eager import EagerBase
from edgecpm.speculative.decode import speculative_generate
from edgecpm.speculative.tree import SpecConfig, ancestor_matrix, tree_mask
from tests.speculative.helpers import oracle_pair, random_base, random_draft

PROMPTS = 50
NEW = 24
SPECS = {
    "chain": SpecConfig(mode="chain", chain_len=4),
    "tree": SpecConfig(mode="tree", num_iter=3, topk_per_iter=3, tree_size=12),
}


def prompts(n: int, vocab: int = 96, seed: int = 0) -> list[list[int]]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(3, vocab, (int(torch.randint(1, 12, (1,), generator=g)),), generator=g).tolist()
            for _ in range(n)]


@pytest.fixture(scope="module")
def oracle():
    return oracle_pair()


@pytest.fixture(scope="module")
def random_pair():
    base = random_base(layers=2)
    return base, random_draft(base)


_REFERENCE: dict = {}


def plain(base, prompt):
    key = (id(base), tuple(prompt))
    if key not in _REFERENCE:
        _REFERENCE[key] = generate(base, prompt, NEW, eos_ids=[2]).tokens
    return _REFERENCE[key]


def check_greedy(base, draft, mode: str, frspec: bool, count: int) -> float:
    # FR-Spec: the draft may only propose half the vocabulary (EOS kept in).
    draft.set_vocab(torch.arange(0, 96, 2) if frspec else None)
    steps = tokens = 0
    try:
        for prompt in prompts(count):
            out = speculative_generate(EagerBase(base), draft, prompt, NEW, spec=SPECS[mode], eos_ids=[2])
            assert out.tokens == plain(base, prompt), f"prompt {prompt}"
            steps += out.verify_steps
            tokens += sum(out.accepted_per_step)
    finally:
        draft.set_vocab(None)
    return tokens / steps


@pytest.mark.parametrize("mode", list(SPECS))
def test_greedy_equals_plain_fast(mode, oracle):
    base, draft = oracle
    assert check_greedy(base, draft, mode, frspec=False, count=6) > 2.5  # long paths accepted
    check_greedy(base, draft, mode, frspec=True, count=4)


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(SPECS))
@pytest.mark.parametrize("frspec", [False, True])
@pytest.mark.parametrize("pair", ["oracle", "random_pair"])
def test_greedy_equals_plain_50_prompts(mode, frspec, pair, request):
    base, draft = request.getfixturevalue(pair)
    mean = check_greedy(base, draft, mode, frspec, PROMPTS)
    if pair == "oracle" and not frspec:
        assert mean > 2.5   # the oracle must actually exercise multi-token acceptance


def test_eos_and_length_stop_like_plain(oracle):
    base, draft = oracle
    prompt = [5, 9, 17]
    ref = generate(base, prompt, 30).tokens
    eos = ref[7]   # stop on a token that occurs mid-way: speculative must cut there too
    want = generate(base, prompt, 30, eos_ids=[eos])
    got = speculative_generate(EagerBase(base), draft, prompt, 30, spec=SPECS["tree"], eos_ids=[eos])
    assert got.tokens == want.tokens and got.stopped_on_eos
    assert len(speculative_generate(EagerBase(base), draft, prompt, 5, spec=SPECS["chain"]).tokens) == 5


def test_tree_mask_shows_ancestors_only():
    parents = [-1, 0, 0, 1, 1, 2]
    a = ancestor_matrix(parents)
    assert a[3].tolist() == [True, True, False, True, False, False]
    assert a[5].tolist() == [True, False, True, False, False, True]
    m = tree_mask(parents, committed=4, max_seq_len=16)
    assert m[:, :4].all() and not m[:, 10:].any()
    assert m[4, 4:10].tolist() == [True, True, False, False, True, False]


def test_cache_too_short_is_refused():
    base = random_base(max_seq_len=32)
    with pytest.raises(ValueError, match="exceeds the KV cache"):
        speculative_generate(EagerBase(base), random_draft(base), [1, 2, 3], 25, spec=SPECS["tree"])


def test_plain_path_unchanged_by_new_arguments():
    """Passing the default slots and causal mask explicitly gives bit-identical hidden states."""
    base = random_base()
    tokens = torch.tensor([[4, 8, 15, 16, 23]])
    pos = torch.arange(5)
    base.reset_caches()
    a = base.hidden_states(tokens, pos)
    base.reset_caches()
    mask = pos.unsqueeze(1) >= base.positions.unsqueeze(0)
    b = base.hidden_states(tokens, pos, cache_pos=pos, attn_mask=mask)
    assert torch.equal(a, b)


def test_compaction_matches_a_fresh_prefill():
    """Verify a tree, compact the accepted path: the cache equals a prefill of the path."""
    base = random_base()
    prompt = [7, 3, 9]
    base.reset_caches()
    base(torch.tensor([prompt]), torch.arange(3))
    # root (slot 3), two children (slots 4, 5), a grandchild under the second child (slot 6).
    parents, toks, depths = [-1, 0, 0, 2], [11, 12, 13, 14], [0, 1, 1, 2]
    base(torch.tensor([toks]), 3 + torch.tensor(depths), 3 + torch.arange(4), tree_mask(parents, 3, base.max_seq_len))
    base.compact_caches(torch.tensor([3, 5, 6]), torch.tensor([3, 4, 5]))
    got = [layer.self_attn.kv_cache.k_cache[:, :, :6].clone() for layer in base.model.layers]
    base.reset_caches()
    base(torch.tensor([prompt + [11, 13, 14]]), torch.arange(6))
    for layer, k in zip(base.model.layers, got):
        torch.testing.assert_close(k, layer.self_attn.kv_cache.k_cache[:, :, :6], rtol=1e-5, atol=1e-5)
