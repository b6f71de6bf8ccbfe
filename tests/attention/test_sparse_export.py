"""A sparse model exports: torch.export keeps one edgecpm::infllm_attention per layer and the
compressed-key cache as mutated state; the exported program equals eager across prefill and
decode calls; ExecuTorch lowering finds the op's .out variant. (Running the .pte needs the C++
kernel library; that test lives with the kernel.)"""

from __future__ import annotations

import pytest
import torch

from edgecpm.attention.sparse_config import SparseConfig
from tests.attention.test_sparse_model import sparse_model, tokens
from tests.model.test_export import Step

SC = SparseConfig(kernel_size=4, kernel_stride=2, init_blocks=1, block_size=8, window_size=8, topk=2,
                  dense_len=20)
MAX_SEQ_LEN = 64


def test_exported_program_equals_eager(tmp_path):
    eager = sparse_model(tmp_path / "a", SC, MAX_SEQ_LEN)
    model = sparse_model(tmp_path / "b", SC, MAX_SEQ_LEN)
    seq = torch.export.Dim("seq", min=1, max=MAX_SEQ_LEN)
    ep = torch.export.export(Step(model), (torch.tensor([[1, 2]]), torch.arange(2)),
                             dynamic_shapes=({1: seq}, {0: seq}), strict=False)
    calls = [n for n in ep.graph.nodes if n.target is torch.ops.edgecpm.infllm_attention.default]
    assert len(calls) == model.config.num_hidden_layers
    mutated = set(ep.run_decompositions({}).graph_signature.buffers_to_mutate.values())
    assert sum("ck_cache" in b for b in mutated) == model.config.num_hidden_layers

    ids = tokens(50)
    with torch.no_grad():
        want = eager(ids, torch.arange(50))
        # Prefill 23 (crossing dense_len), then decode the rest through the same program.
        mod = ep.module()
        got = [mod(ids[:, :23], torch.arange(23))] + [mod(ids[:, i:i + 1], torch.tensor([i])) for i in range(23, 50)]
    assert (torch.cat(got, 1) - want).abs().max().item() <= 1e-5


@pytest.mark.slow
def test_executorch_lowering_uses_the_out_variant(tmp_path):
    from edgecpm.export.pte import lower_model, program_operators

    model = sparse_model(tmp_path, SC, MAX_SEQ_LEN)
    program, _ = lower_model(model, MAX_SEQ_LEN)
    assert "edgecpm::infllm_attention.out" in program_operators(program)
    assert len(program.buffer) > 0
