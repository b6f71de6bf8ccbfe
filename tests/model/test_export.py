"""The decode step and a prefill chunk trace with torch.export (no graph breaks, static shapes),
and the exported program computes what eager does, cache state included."""

from __future__ import annotations

import torch

from edgecpm.checkpoint.loader import load_model


class Step(torch.nn.Module):
    """The exported signature: tokens and positions in, fp32 logits out; the cache is state."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, tokens, input_pos):
        return self.model(tokens, input_pos)


def test_torch_export_decode_and_prefill(tied_ckpt):
    eager = load_model(tied_ckpt, max_seq_len=32)
    exported_model = load_model(tied_ckpt, max_seq_len=32)
    decode = torch.export.export(Step(exported_model), (torch.tensor([[5]]), torch.tensor([0])), strict=False)
    prefill = torch.export.export(Step(exported_model), (torch.tensor([[5, 6, 7, 8]]), torch.arange(4)),
                                  strict=False)
    # Once functionalized (as ExecuTorch lowering does), the KV cache is a mutated buffer of the
    # graph: state carried between calls, not an input the caller passes.
    mutated = set(decode.run_decompositions({}).graph_signature.buffers_to_mutate.values())
    assert any("k_cache" in b for b in mutated) and any("v_cache" in b for b in mutated)

    ids = torch.randint(0, 96, (1, 12), generator=torch.Generator().manual_seed(0))
    want = eager(ids)
    # Prefill 4 tokens, then decode the rest through the exported programs (shared cache state).
    prefill_mod, decode_mod = prefill.module(), decode.module()
    got = [prefill_mod(ids[:, :4], torch.arange(4))]
    for i in range(4, 12):
        got.append(decode_mod(ids[:, i:i + 1], torch.tensor([i])))
    assert (torch.cat(got, 1) - want).abs().max().item() <= 1e-5
