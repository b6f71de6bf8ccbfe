"""Decode speed at MiniCPM4-0.5B shapes: our native runner on the fp / int4 / ternary bundles and
llama.cpp on the same quantized weights, measured once per run and shared by the ``bitcpm`` and
``edge`` experiments.

The bundles are random-weight 0.5B-shape artifacts (speed does not depend on the values), made by
``python -m benchmarks.peers --shape minicpm4-0.5b`` into ``build/peers/minicpm4-0.5b/`` (``ternary-pte``,
``int4-pte``; the fp one by ``edgecpm export DIR/fp -o DIR/fp-pte --max-seq-len 128``). A
bundle that is not there is reported as missing, with the command that makes it: building them
takes longer than this command's budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SCHEMES = ("fp", "int4", "ternary")
N_PROMPT, N_GEN = 16, 32
PEERS = "python -m benchmarks.peers --shape minicpm4-0.5b"
MAKE_HINT = {"int4": PEERS, "ternary": PEERS,
             "fp": "edgecpm export {dir}/fp -o {dir}/fp-pte --max-seq-len 128"}


@dataclass
class DecodeSpeed:
    scheme: str
    tok_s: list[float] | None       # ours, the runner's decode rate per run; None: not measured
    bits_per_weight: float | None   # block linears, from the bundle's manifest
    llamacpp_tok_s: list[float] | None = None
    missing: str = ""               # why ours was not measured
    llamacpp_missing: str = ""

    @property
    def median(self) -> float | None:
        from edgecpm.bench_timing import median

        return None if self.tok_s is None else median(self.tok_s)

    @property
    def llamacpp_median(self) -> float | None:
        from edgecpm.bench_timing import median

        return None if self.llamacpp_tok_s is None else median(self.llamacpp_tok_s)


_MEASURED: dict[tuple, dict[str, DecodeSpeed]] = {}


def bundle_of(artifacts: Path, scheme: str) -> Path:
    return artifacts / f"{scheme}-pte"


def missing_bundle(artifacts: Path, scheme: str) -> str:
    bundle = bundle_of(artifacts, scheme)
    if (bundle / "manifest.json").is_file():
        return ""
    return f"no bundle at {bundle} (make it with `{MAKE_HINT[scheme].format(dir=artifacts)}`)"


def measure(artifacts: Path, reps: int, with_llamacpp: bool = True) -> dict[str, DecodeSpeed]:
    """Each scheme's decode speed, measured on the first call for these arguments and reused after."""
    key = (str(artifacts), reps, with_llamacpp)
    if key not in _MEASURED:
        _MEASURED[key] = {s: _measure_one(artifacts, s, reps, with_llamacpp) for s in SCHEMES}
    return _MEASURED[key]


def _measure_one(artifacts: Path, scheme: str, reps: int, with_llamacpp: bool) -> DecodeSpeed:
    import json

    from edgecpm.bench import runner_samples
    from edgecpm.bench_depth import prompt_ids
    from edgecpm.errors import EdgecpmError
    from edgecpm.export.targets import load_target

    why = missing_bundle(artifacts, scheme)
    if why:
        return DecodeSpeed(scheme, None, None, missing=why, llamacpp_missing="no bundle to compare with")
    runner = load_target("host").kernel_dir / "edgecpm-runner"
    if not runner.is_file():
        return DecodeSpeed(scheme, None, None, missing=f"{runner} is not built (`make kernels`)",
                           llamacpp_missing="ours not measured")
    bundle = bundle_of(artifacts, scheme)
    manifest = json.loads((bundle / "manifest.json").read_text())
    prompt = prompt_ids(manifest["config"]["vocab_size"], N_PROMPT, 0)
    try:
        rows = dict(runner_samples(runner, bundle, prompt, N_GEN, reps))
    except EdgecpmError as e:   # a broken bundle or runner: this row says so, the others still run
        return DecodeSpeed(scheme, None, None, missing=str(e), llamacpp_missing="ours not measured")
    speed = DecodeSpeed(scheme, rows[f"tg{N_GEN}"], manifest.get("bits_per_weight"))
    if not with_llamacpp:
        speed.llamacpp_missing = "skipped (--quick)"
    elif scheme == "fp":
        speed.llamacpp_missing = "not compared: our fp bundle has no GGUF twin here"
    else:
        speed.llamacpp_tok_s, speed.llamacpp_missing = _llamacpp(artifacts, scheme, prompt, reps)
    return speed


def _llamacpp(artifacts: Path, scheme: str, prompt: list[int], reps: int) -> tuple[list[float] | None, str]:
    """llama.cpp's decode rates on our GGUF export of the checkpoint the bundle came from: the
    artifacts' own ``SCHEME.gguf`` when there is one, else made from ``SCHEME/`` (cached)."""
    from edgecpm.errors import EdgecpmError
    from edgecpm.peers.compare import missing_peers, peer_rows, peer_sources, prepare_peers

    missing = missing_peers(["llama.cpp"])
    if missing:
        return None, missing[0]
    gguf = artifacts / f"{scheme}.gguf"
    if gguf.is_file():
        peers = {"llama.cpp": gguf}
    else:
        try:
            peers = prepare_peers(["llama.cpp"], peer_sources(bundle_of(artifacts, scheme), artifacts / scheme),
                                  N_PROMPT + N_GEN + 2, progress=lambda _: None)
        except EdgecpmError as e:
            return None, str(e)
    try:
        rows = peer_rows(peers, 0.0, prompt, N_GEN, reps, None, "")["llama.cpp"]
    except EdgecpmError as e:
        return None, str(e)
    return next(r.samples for r in rows if r.test == f"tg{N_GEN}"), ""
