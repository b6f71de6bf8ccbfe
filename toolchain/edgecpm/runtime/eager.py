"""The eager PyTorch model as a speculative-decoding base. (As a plain ``CausalLM`` the eager model
needs no wrapper: ``MiniCPMForCausalLM`` is one.)"""

from __future__ import annotations


class EagerBase:
    """The base side of speculative decoding (``protocols.SpeculativeBase``) for an eager model;
    an exported program's ``verify`` method has the same contract (``spec_program.PteSpecBase``).

    With InfLLM-v2 sparse attention every call is a verification, the prompt's included: slots are
    always passed (default: the positions), so the model masks by position and each row is a decode
    step over its own path (``attention/infllm_tree.py``), as in the program's ``verify``."""

    def __init__(self, model):
        self.model = model
        self.config = model.config
        self.max_seq_len = model.max_seq_len
        self.sparse = any(getattr(layer.self_attn, "sparse", None) is not None for layer in model.model.layers)

    def verify(self, tokens, input_pos, cache_pos=None, attn_mask=None):
        if self.sparse and cache_pos is None:
            cache_pos = input_pos  # explicit slots: the model then masks causally by position (cache_mask)
        hidden = self.model.hidden_states(tokens.view(1, -1), input_pos, cache_pos, attn_mask)[0]
        return hidden, self.model.logits(hidden)

    def compact_caches(self, src, dst):
        self.model.compact_caches(src, dst)

    def reset_caches(self):
        self.model.reset_caches()

