"""The eager PyTorch model as a speculative-decoding base. (As a plain ``CausalLM`` the eager model
needs no wrapper: ``MiniCPMForCausalLM`` is one.)"""

from __future__ import annotations

from edgecpm.errors import UsageError


class EagerBase:
    """The base side of speculative decoding (``protocols.SpeculativeBase``) for an eager model;
    an exported program's ``verify`` method has the same contract (``spec_program.PteSpecBase``)."""

    def __init__(self, model):
        if any(getattr(layer.self_attn, "sparse", None) is not None for layer in model.model.layers):
            raise UsageError("speculative decoding needs dense attention: InfLLM-v2 sparse attention has "
                             "no tree mask; load the model without sparse attention")
        self.model = model
        self.config = model.config
        self.max_seq_len = model.max_seq_len

    def verify(self, tokens, input_pos, cache_pos=None, attn_mask=None):
        hidden = self.model.hidden_states(tokens.view(1, -1), input_pos, cache_pos, attn_mask)[0]
        return hidden, self.model.logits(hidden)

    def compact_caches(self, src, dst):
        self.model.compact_caches(src, dst)

    def reset_caches(self):
        self.model.reset_caches()

