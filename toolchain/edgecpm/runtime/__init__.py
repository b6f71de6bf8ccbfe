"""Where a model runs: what callers need of it, and the backends that provide it.

- ``protocols``: ``CausalLM``, ``SpeculativeBase``, ``SpeculativeDraft`` (typed contracts; no
  caller asks a model what it has).
- ``pte``: an exported bundle run by the ExecuTorch Python runtime (``PteModel``);
  ``spec_program``: its speculative-decoding methods; ``kernel_library``: finding, checking and
  loading the edgecpm kernels it needs.
- ``eager``: the eager model as a speculative base; ``cuda``: the GPU reference runner.
- ``sampling``: choosing the next token; ``result``: what a generation run returns;
  ``footprint``: a model's weight scheme and size, whatever runs it.
- ``transport``: taking a bundle to the machine that runs it (this machine today).
"""
