"""Speculative decoding for MiniCPM4: an EAGLE draft head, FR-Spec, chain and tree drafting.

- ``draft``: the draft head module (MINICPM4.md §6), its on-disk format and the EAGLE/CPM.cu
  weight-name mapping.
- ``frspec``: frequency-ranked vocabulary subsets for the draft's LM head.
- ``tree``: chain and EAGLE-2 dynamic-tree drafting, the tree attention mask.
- ``decode``: verification in one base forward, acceptance (greedy / rejection sampling), KV
  compaction, statistics.
- ``loading``: the (base, draft) pair a command names (an eager model and a draft head, or a
  program's own methods).
- ``export_methods``: the ``verify`` / ``draft`` methods ``edgecpm export --draft`` adds.
- ``train``: training a draft head from the base model's own hidden states.

Running a program's speculative methods is ``edgecpm.runtime.spec_program``.
"""
