"""MiniCPM4 end to end on the edge (the paper's Jetson table, scaled to this host): decode speed
at 0.5B shapes for fp / int4 / ternary in our native runner, beside llama.cpp on the same
quantized weights; sparse attention at depth and speculation where they can be measured."""

from __future__ import annotations

from pathlib import Path

from edgecpm.reproduce import decode_05b
from edgecpm.reproduce.claims import Claim, ExperimentResult, not_measured, ratio
from edgecpm.reproduce import speculation_05b

PAPER_JETSON = "CPM.cu 8B (sparse + int4 + EAGLE/FR-Spec), AGX Orin: ≈59 tok/s @32K, ≈46 @128K"


def peer_claims(speeds: dict[str, decode_05b.DecodeSpeed]) -> list[Claim]:
    claims = []
    metric = "decode tok/s (medians), ours / llama.cpp"
    for scheme in decode_05b.SCHEMES:
        s = speeds[scheme]
        scale = f"MiniCPM4-0.5B shapes, random weights, tg{decode_05b.N_GEN}, this host"
        name = f"decode {scheme}: edgecpm-runner vs llama.cpp (same weights)"
        if s.median is None:
            claims.append(not_measured(name, "—", metric, scale, s.missing))
        elif s.llamacpp_median is None:
            claims.append(Claim(name, "—", f"{s.median:.1f} tok/s; llama.cpp not measured: {s.llamacpp_missing}",
                                metric, scale, ours_value=s.median))
        else:
            x = ratio(s.median, s.llamacpp_median)
            claims.append(Claim(name, "—", f"{s.median:.1f} vs {s.llamacpp_median:.1f} tok/s ({x:.2f}×)", metric,
                                scale, ours_value=x))
    return claims


def pending_claims(quick: bool = False) -> list[Claim]:
    """What the paper's table combines that cannot be measured at 0.5B shapes on this run."""
    claims = [not_measured("sparse vs dense decode at depth", PAPER_JETSON, "decode tok/s ratio", "—",
                           "MiniCPM4-0.5B has no sparse attention (sparse_config is 8B-only); the per-layer ratio is "
                           "in the InfLLM-v2 table")]
    spec = speculation_05b.measure(quick=quick)
    name, metric = "speculative decode speedup", "tok/s ratio over plain decode"
    scale = f"MiniCPM4-0.5B shapes, ternary, replay draft at {speculation_05b.TINY_DRAFT_ACCEPTED} tokens/step"
    if spec.speedup is None:
        claims.append(not_measured(name, PAPER_JETSON, metric, scale, spec.missing))
    else:
        claims.append(Claim(name, PAPER_JETSON, spec.describe(), metric, scale, ours_value=spec.speedup))
    return claims


def run(artifacts: Path, quick: bool = False) -> ExperimentResult:
    speeds = decode_05b.measure(artifacts, reps=2 if quick else 3, with_llamacpp=not quick)
    differs = ("The paper's table is an 8B model on a Jetson AGX Orin GPU with sparse attention and speculation "
               "combined; ours is 0.5B shapes with random weights on this host's CPU, plain decode, each "
               "technique measured on its own.")
    return ExperimentResult("edge", "MiniCPM4 end to end on the edge", peer_claims(speeds) + pending_claims(quick), differs,
                            setting=f"0.5B-shape bundles under {artifacts}",
                            details={"decode_tok_s": {k: v.tok_s for k, v in speeds.items()},
                                     "llamacpp_tok_s": {k: v.llamacpp_tok_s for k, v in speeds.items()}})
