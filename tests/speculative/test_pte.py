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
from tests.speculative.helpers import oracle_pair
from tests.speculative.test_greedy import NEW, PROMPTS, SPECS, prompts

MAX_SEQ_LEN = 64
FRSPEC_IDS = torch.arange(0, 96, 2)   # half the vocabulary; EOS (2) is in


class ProgramForward:
    """A program's plain ``forward`` behind the interface ``generate`` uses."""

    def __init__(self, program, max_seq_len: int):
        self._forward = program.load_method("forward")
        self.max_seq_len = max_seq_len

    def reset_caches(self):
        pass

    def __call__(self, tokens, input_pos):
        return self._forward.execute([tokens, input_pos])[0]


def lower_spec_program(path, frspec: bool):
    from executorch.runtime import Runtime

    from edgecpm.export.pte import lower_model
    from edgecpm.export.spec_chunk import SPEC_CHUNK
    from edgecpm.export.spec_methods import spec_programs
    from edgecpm.runtime.spec_program import PteSpecBase, PteSpecDraft

    base, draft = oracle_pair(max_seq_len=MAX_SEQ_LEN)
    draft.set_vocab(FRSPEC_IDS if frspec else None)
    program, _ = lower_model(base, MAX_SEQ_LEN, extra_methods=spec_programs(base, draft, MAX_SEQ_LEN))
    path.write_bytes(program.buffer)
    loaded = Runtime.get().load_program(str(path))
    chunk = min(SPEC_CHUNK, MAX_SEQ_LEN)
    ids = FRSPEC_IDS.tolist() if frspec else None
    # The FR-Spec program also calls verify_in_place when nothing moves; the other, verify always.
    return (ProgramForward(loaded, MAX_SEQ_LEN), PteSpecBase(loaded, base.config, MAX_SEQ_LEN, chunk, in_place=frspec),
            PteSpecDraft(loaded, base.config, MAX_SEQ_LEN, chunk, ids))


@pytest.fixture(scope="module", params=[False, True], ids=["full-vocab", "frspec"])
def program(request, tmp_path_factory, lib):  # lib: the programs' attention is an edgecpm op
    pytest.importorskip("executorch")
    return lower_spec_program(tmp_path_factory.mktemp("spec") / "model.pte", request.param)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["chain", "tree"])
def test_program_greedy_equals_its_plain_decoding(program, mode):
    forward, base, draft = program
    steps = emitted = 0
    for prompt in prompts(PROMPTS):
        want = generate(forward, prompt, NEW, eos_ids=[2]).tokens
        got = speculative_generate(base, draft, prompt, NEW, spec=SPECS[mode], eos_ids=[2])
        assert got.tokens == want, f"prompt {prompt}"
        steps += got.verify_steps
        emitted += sum(got.accepted_per_step)
    # The oracle draft is right nearly always (less so when FR-Spec hides half the vocabulary):
    # long paths, so the cache moves really happen.
    assert emitted / steps > 1.6


@pytest.mark.slow
def test_long_prompt_is_fed_in_chunks(program, monkeypatch):
    forward, base, draft = program
    monkeypatch.setattr(base, "chunk", 7)
    monkeypatch.setattr(draft, "chunk", 7)
    prompt = prompts(1)[0] * 4
    want = generate(forward, prompt, 8, eos_ids=[2]).tokens
    assert speculative_generate(base, draft, prompt, 8, spec=SPECS["tree"], eos_ids=[2]).tokens == want
