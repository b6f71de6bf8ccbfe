"""MiniCPM4 end to end on the edge (the paper's Jetson table, scaled to this host): decode speed
at 0.5B shapes for fp / int4 / ternary in our native runner, beside llama.cpp on the same
quantized weights; sparse attention at depth and speculation where they can be measured."""

from __future__ import annotations

from pathlib import Path

from edgecpm.reproduce import decode_05b, depth_05b, speculation_05b
from edgecpm.reproduce.claims import Claim, ExperimentResult, not_measured, ratio

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


def depth_claims(speeds: list[depth_05b.DepthSpeed], rounds: int, footprint: depth_05b.Footprint | None) -> list[Claim]:
    """One row per depth: sparse over dense decode rate, the 0.5B shapes with the 8B's sparse_config."""
    claims = []
    metric = f"decode tok/s, sparse / dense (medians of {rounds}, interleaved)"
    dense_len = footprint.dense_len if footprint is not None else depth_05b.DENSE_LEN_8B
    for s in speeds:
        control = s.depth < dense_len
        name = f"sparse vs dense decode @ d{s.depth}" + (" (control: both dense)" if control else "")
        paper = "— (≈1: below dense_len both attend densely)" if control else PAPER_JETSON
        at = f"tg{depth_05b.N_GEN} after {max(s.positions.values(), default=s.depth)} positions"
        scale = f"MiniCPM4-0.5B shapes (ternary, random weights) with the MiniCPM4-8B's sparse_config " \
                f"(the 0.5B has none); {at}"
        if footprint is not None:
            scale += f"; {footprint.note(s.depth)}"
        if s.speedup is None:
            claims.append(not_measured(name, paper, metric, scale, s.missing))
        else:
            x = s.speedup
            claims.append(Claim(name, paper, f"{s.median('sparse'):.1f} vs {s.median('dense'):.1f} tok/s ({x:.2f}×)",
                                metric, scale, ours_value=x))
    return claims


CONTROL_BAND = (0.8, 1.25)   # a control ratio outside it: the two programs differ beyond the attention


def control_line(speeds: list[depth_05b.DepthSpeed], dense_len: int) -> str:
    """A sentence for the differs line when a control depth's ratio is far from 1 ("" otherwise):
    the sparse program then costs more (or less) per step even where it attends densely, and the
    deeper rows measure that as well as sparse attention."""
    off = [s for s in speeds if s.depth < dense_len and s.speedup is not None
           and not CONTROL_BAND[0] <= s.speedup <= CONTROL_BAND[1]]
    if not off:
        return ""
    at = ", ".join(f"{s.speedup:.2f}× at d{s.depth}" for s in off)
    return (f" The control is not ≈1 ({at}): below dense_len the sparse program's decode step already "
            "differs from the dense one's, so the deeper rows carry that difference too, not only sparse "
            "attention's.")


def pending_claims(quick: bool = False) -> list[Claim]:
    """Speculation at 0.5B shapes (speculation_05b), a row that may say why it was not measured."""
    claims = []
    spec = speculation_05b.measure(quick=quick)
    name, metric = "speculative decode speedup", "tok/s ratio over plain decode"
    scale = f"MiniCPM4-0.5B shapes, ternary, replay draft at {speculation_05b.TINY_DRAFT_ACCEPTED} tokens/step"
    if spec.speedup is None:
        claims.append(not_measured(name, PAPER_JETSON, metric, scale, spec.missing))
    else:
        claims.append(Claim(name, PAPER_JETSON, spec.describe(), metric, scale, ours_value=spec.speedup))
    return claims


DIFFERS = ("The paper's table is an 8B model on a Jetson AGX Orin GPU with sparse attention and speculation "
           "combined; ours is 0.5B shapes with random weights on this host's CPU, plain decode, each technique "
           "measured on its own. The 0.5B has no sparse attention: the depth rows add the 8B's sparse_config to the "
           "0.5B shapes. At depth a step reads mostly KV cache: 24 KiB per position (24 layers x 2 "
           "KV heads x 64 dims x 4 bytes x K,V), 288 MiB at 12K against ~170 MiB of ternary weights; sparse "
           "attention reads at most 96 blocks (6144 positions) of it.")


def run(artifacts: Path, quick: bool = False) -> ExperimentResult:
    speeds = decode_05b.measure(artifacts, reps=2 if quick else 3, with_llamacpp=not quick)
    rounds = 2 if quick else depth_05b.ROUNDS
    at_depth = depth_05b.measure(artifacts, rounds, depth_05b.QUICK_DEPTHS if quick else depth_05b.DEPTHS)
    footprint = None if any(depth_05b.missing_bundle(artifacts, m) for m in depth_05b.MODES) \
        else depth_05b.footprint(artifacts)
    claims = peer_claims(speeds) + depth_claims(at_depth, rounds, footprint) + pending_claims(quick)
    dense_len = footprint.dense_len if footprint is not None else depth_05b.DENSE_LEN_8B
    differs = DIFFERS + control_line(at_depth, dense_len)
    return ExperimentResult("edge", "MiniCPM4 end to end on the edge", claims, differs,
                            setting=f"0.5B-shape bundles under {artifacts}",
                            details={"decode_tok_s": {k: v.tok_s for k, v in speeds.items()},
                                     "llamacpp_tok_s": {k: v.llamacpp_tok_s for k, v in speeds.items()},
                                     "depth_decode_tok_s": {s.depth: s.tok_s for s in at_depth},
                                     "depth_positions": {s.depth: s.positions for s in at_depth}})
