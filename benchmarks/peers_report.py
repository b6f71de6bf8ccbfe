"""The arithmetic of benchmarks/peers.py: medians, the markdown table and the ratio line.

Pure functions over timing records, so a test can check them with made-up numbers. A record is
{"prefill_tok_s": float, "decode_tok_s": float}; a round maps artifact name -> record (an artifact
that did not run is absent from the round).
"""

from __future__ import annotations

import statistics

OURS_TERNARY = "edgecpm ternary TQ2_0 g256 (runner)"
OURS_INT4 = "edgecpm int4 sym g32 (runner)"
LLAMA_TQ2 = "llama.cpp TQ2_0"
LLAMA_Q4 = "llama.cpp Q4_0"
ET_8DA4W = "executorch 8da4w + xnnpack"
ORDER = (OURS_TERNARY, OURS_INT4, LLAMA_TQ2, LLAMA_Q4, ET_8DA4W)
# Who "best" is for each of ours: the faster of the peers with the same kind of weights.
PEERS = {OURS_TERNARY: (LLAMA_TQ2, ET_8DA4W), OURS_INT4: (LLAMA_Q4, ET_8DA4W)}


def median_rate(rounds: list[dict], artifact: str, key: str) -> float | None:
    values = [r[artifact][key] for r in rounds if artifact in r]
    return statistics.median(values) if values else None


def ratio_to_best(rounds: list[dict], ours: str, key: str) -> float | None:
    """Median over rounds of ours / (the faster present peer in that round)."""
    ratios = []
    for r in rounds:
        peers = [r[p][key] for p in PEERS[ours] if p in r]
        if ours in r and peers:
            ratios.append(r[ours][key] / max(peers))
    return statistics.median(ratios) if ratios else None


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def ratio_line(rounds: list[dict]) -> str:
    return (f"ratio decode ternary/best {_fmt(ratio_to_best(rounds, OURS_TERNARY, 'decode_tok_s'))} "
            f"prefill {_fmt(ratio_to_best(rounds, OURS_TERNARY, 'prefill_tok_s'))}; "
            f"int4/best decode {_fmt(ratio_to_best(rounds, OURS_INT4, 'decode_tok_s'))}")


def table(rounds: list[dict], file_bytes: dict[str, int], copy_gb_s: float) -> str:
    """Effective GB/s = file bytes x decode tok/s: the whole program/GGUF counted as weights streamed
    once per token (the embedding table is read one row per token, so this overstates the bytes a
    little, the same way for every row; the KV cache is left out: small at this context)."""
    lines = ["| artifact | file MB | prefill tok/s | decode tok/s | effective GB/s | % of copy bandwidth |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name in ORDER:
        if name not in file_bytes:
            continue
        pp, tg = median_rate(rounds, name, "prefill_tok_s"), median_rate(rounds, name, "decode_tok_s")
        if tg is None:
            lines.append(f"| {name} | {file_bytes[name] / 1e6:.1f} | missing | missing | | |")
            continue
        gb_s = file_bytes[name] * tg / 1e9
        lines.append(f"| {name} | {file_bytes[name] / 1e6:.1f} | {pp:.1f} | {tg:.1f} | {gb_s:.2f} | "
                     f"{100 * gb_s / copy_gb_s:.0f}% |")
    return "\n".join(lines)
