"""Speculative decoding priced at real shapes (benchmarks/speculative.py ``--shape``).

Speed does not depend on weight values, acceptance does: ``assets`` makes random-weight draft
heads and FR-Spec lists of the real shapes and exports programs with them; ``replay`` runs the
native runner's replay draft (``--replay-accept``), which proposes a plain greedy run's tokens
corrupted at a set rate, so the cost of the real draft/verify path is measured at any mean
accepted length. Nothing here says anything about a draft's quality.
"""
