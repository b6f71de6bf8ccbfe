"""Speculative decoding from an ExecuTorch program: the ``verify`` and ``draft`` methods beside
``forward`` in one ``.pte`` give exactly the program's own plain greedy tokens.

50 prompts per drafting mode (chain, tree), with and without FR-Spec (FR-Spec is fixed at export:
two programs), on the one-layer oracle pair of ``helpers`` so that accepted paths are long and
the cache moves inside ``verify`` are exercised. The reference is the same program's ``forward``,
which shares ``verify``'s KV cache (one set of shared mutable buffers): interleaving the two also
checks that no method corrupts another's state.
"""

from __future__ import annotations

import pytest
import torch

from edgecpm.generate import generate
from edgecpm.speculative.decode import speculative_generate
from tests.speculative.helpers import greedy_equals_plain, lower_spec_program, oracle_pair
from tests.speculative.test_greedy import NEW, PROMPTS, SPECS, prompts

MAX_SEQ_LEN = 64
FRSPEC_IDS = torch.arange(0, 96, 2)   # half the vocabulary; EOS (2) is in


@pytest.fixture(scope="module", params=[False, True], ids=["full-vocab", "frspec"])
def program(request, tmp_path_factory, lib):  # lib: the programs' attention is an edgecpm op
    pytest.importorskip("executorch")
    base, draft = oracle_pair(max_seq_len=MAX_SEQ_LEN)
    draft.set_vocab(FRSPEC_IDS if request.param else None)
    # The FR-Spec program also calls verify_in_place when nothing moves; the other, verify always.
    return lower_spec_program(tmp_path_factory.mktemp("spec") / "model.pte", base, draft, MAX_SEQ_LEN,
                              in_place=request.param)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["chain", "tree"])
def test_program_greedy_equals_its_plain_decoding(program, mode):
    forward, base, draft = program
    # The oracle draft is right nearly always (less so when FR-Spec hides half the vocabulary):
    # long paths, so the cache moves really happen.
    assert greedy_equals_plain(forward, base, draft, SPECS[mode], prompts(PROMPTS), NEW) > 1.6


@pytest.mark.slow
def test_long_prompt_is_fed_in_chunks(program, monkeypatch):
    forward, base, draft = program
    monkeypatch.setattr(base, "chunk", 7)
    monkeypatch.setattr(draft, "chunk", 7)
    prompt = prompts(1)[0] * 4
    want = generate(forward, prompt, 8, eos_ids=[2]).tokens
    assert speculative_generate(base, draft, prompt, 8, spec=SPECS["tree"], eos_ids=[2]).tokens == want
