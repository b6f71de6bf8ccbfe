"""The arithmetic of ``benchmarks.peers``: its rows, the ratio line and the missing artifacts.

Pure functions over timing records, so a test can check them with made-up numbers. A record is
{"prefill_tok_s": float, "decode_tok_s": float}; a round maps artifact name -> record (an artifact
that did not run is absent from the round).
"""

from __future__ import annotations

import statistics

from edgecpm.bench_records import BenchRow

OURS_TERNARY = "edgecpm ternary TQ2_0 g256 (runner)"
OURS_INT4 = "edgecpm int4 sym g32 (runner)"
LLAMA_TQ2 = "llama.cpp TQ2_0"
LLAMA_Q4 = "llama.cpp Q4_0"
ET_8DA4W = "executorch 8da4w + xnnpack"
ORDER = (OURS_TERNARY, OURS_INT4, LLAMA_TQ2, LLAMA_Q4, ET_8DA4W)
# Who "best" is for each of ours: the faster of the peers with the same kind of weights.
PEERS = {OURS_TERNARY: (LLAMA_TQ2, ET_8DA4W), OURS_INT4: (LLAMA_Q4, ET_8DA4W)}


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


def backend_of(artifact: str) -> str:
    if artifact in (OURS_TERNARY, OURS_INT4):
        return "edgecpm-runner (C++)"
    return "llama.cpp (llama-cpp-python)" if artifact.startswith("llama.cpp") else "executorch (python) + xnnpack"


def rows(rounds: list[dict], file_bytes: dict[str, int], copy_gb_s: float, n_prompt: int, n_gen: int,
         params_m: float, threads: int, device: str) -> list[BenchRow]:
    """A pp and a tg row per artifact that ran, its samples one per round, size = the program or
    GGUF file: the tg row's GB/s is then the whole file counted as weights streamed once per token
    (the embedding table is read one row per token, so this overstates the bytes a little, the
    same way for every row; the KV cache is left out: small at this context)."""
    out = []
    for name in ORDER:
        if name not in file_bytes:
            continue
        pp = [r[name]["prefill_tok_s"] for r in rounds if name in r]
        tg = [r[name]["decode_tok_s"] for r in rounds if name in r]
        if not tg:
            continue
        common = (name, file_bytes[name] / 2**20, params_m, backend_of(name), threads)
        out.append(BenchRow(*common, f"pp{n_prompt}", pp, device=device, extra={"file MB": file_bytes[name] / 1e6}))
        row = BenchRow(*common, f"tg{n_gen}", tg, device=device, extra={"file MB": file_bytes[name] / 1e6})
        row.extra["% of copy bandwidth"] = f"{100 * row.weight_gb_s / copy_gb_s:.0f}%"
        out.append(row)
    return out


def missing_lines(rounds: list[dict], file_bytes: dict[str, int]) -> list[str]:
    """An artifact that was built but never ran (each failure was printed as it happened)."""
    return [f"missing: {name} ({file_bytes[name] / 1e6:.1f} MB) has no timings: every run of it failed"
            for name in ORDER if name in file_bytes and not any(name in r for r in rounds)]
