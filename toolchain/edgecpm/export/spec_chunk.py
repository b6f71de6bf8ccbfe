"""The most tokens one call of an exported speculative program's methods takes (torch-free, so the
CLI can bound its options without importing torch).

ExecuTorch plans activation memory for the largest call, and a ``[T, vocab]`` logits output at
T = max_seq_len would dominate it; longer prompts are fed in chunks of this size, and a verify step
(tree or chain, root included) must fit in one call. Eager decoding keeps the same bound, so a
setting that works eagerly also works on a program.
"""

SPEC_CHUNK = 64
