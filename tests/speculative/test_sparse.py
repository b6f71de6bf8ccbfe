"""Speculative decoding on an InfLLM-v2 sparse model is lossless: greedy speculative output equals
plain greedy output, eager and program, chain and tree, with and without FR-Spec, over 50 prompts
whose contexts run past the sparse budget (4 blocks of 8 = 32 slots), so blocks are really dropped
while the verify calls hold trees.

The base is the oracle pair's one-layer model with sparse attention switched on (kernel 4, stride
2, block 8: tree paths complete compressed windows of their own); the draft head stays dense, so
it is right less often than in the dense oracle, but still accepts paths longer than one token.
"""

from __future__ import annotations

import copy

import pytest
import torch

from edgecpm.attention.infllm_v2 import SparseParams
from edgecpm.attention.sparse_config import SparseConfig
from edgecpm.generate import generate
from edgecpm.runtime.eager import EagerBase
from tests.speculative.helpers import greedy_equals_plain, lower_spec_program, oracle_pair
from tests.speculative.test_greedy import SPECS

PROMPTS = 50
NEW = 24
MAX_SEQ_LEN = 96
SPARSE = SparseConfig(kernel_size=4, kernel_stride=2, init_blocks=1, block_size=8, window_size=8, topk=3,
                      dense_len=-1)
# The dense switch inside the generated span: decode steps below position 47 are dense, the rest sparse.
SWITCHING = SparseConfig(kernel_size=4, kernel_stride=2, init_blocks=1, block_size=8, window_size=8, topk=3,
                         dense_len=48)
FRSPEC_IDS = torch.arange(0, 96, 2)


def sparse_oracle(sc: SparseConfig):
    base, draft = oracle_pair(max_seq_len=MAX_SEQ_LEN)
    base.config.sparse_config = copy.deepcopy(sc)
    params = SparseParams.from_config(sc)
    for layer in base.model.layers:
        layer.self_attn.sparse = params
    base.setup_caches(MAX_SEQ_LEN)  # adds the compressed-key caches
    return base, draft


def long_prompts(n: int = PROMPTS, seed: int = 0) -> list[list[int]]:
    """33..44 tokens: past the 32-slot budget from the first decode step, under dense_len 48."""
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(3, 96, (int(torch.randint(33, 45, (1,), generator=g)),), generator=g).tolist()
            for _ in range(n)]


@pytest.fixture(scope="module", params=[SPARSE, SWITCHING], ids=["sparse", "dense_len-48"])
def oracle(request):
    return sparse_oracle(request.param)


def test_blocks_are_really_dropped(oracle):
    """The sparse model's greedy tokens are not dense attention's on these prompts."""
    base, _ = oracle
    dense, _ = oracle_pair(max_seq_len=MAX_SEQ_LEN)
    differ = sum(generate(base, p, NEW).tokens != generate(dense, p, NEW).tokens for p in long_prompts(10))
    assert differ >= 3


@pytest.mark.parametrize("mode", list(SPECS))
def test_eager_greedy_equals_plain_fast(oracle, mode):
    base, draft = oracle
    assert greedy_equals_plain(base, EagerBase(base), draft, SPECS[mode], long_prompts(6), NEW) > 1.3


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(SPECS))
@pytest.mark.parametrize("frspec", [False, True], ids=["full-vocab", "frspec"])
def test_eager_greedy_equals_plain_50_prompts(oracle, mode, frspec):
    base, draft = oracle
    draft.set_vocab(FRSPEC_IDS if frspec else None)
    try:
        assert greedy_equals_plain(base, EagerBase(base), draft, SPECS[mode], long_prompts(), NEW) > 1.3
    finally:
        draft.set_vocab(None)


@pytest.fixture(scope="module", params=[False, True], ids=["full-vocab", "frspec"])
def program(request, tmp_path_factory, lib):  # lib: the attention ops are edgecpm's
    pytest.importorskip("executorch")
    base, draft = sparse_oracle(SWITCHING)
    draft.set_vocab(FRSPEC_IDS if request.param else None)
    return (*lower_spec_program(tmp_path_factory.mktemp("sparse-spec") / "model.pte", base, draft, MAX_SEQ_LEN),
            base)


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(SPECS))
def test_program_greedy_equals_its_plain_decoding(program, mode):
    forward, base, draft, eager = program
    assert greedy_equals_plain(forward, base, draft, SPECS[mode], long_prompts(), NEW) > 1.3
    # and the program's plain tokens are the eager model's
    for prompt in long_prompts(3):
        assert generate(forward, prompt, NEW).tokens == generate(eager, prompt, NEW).tokens
