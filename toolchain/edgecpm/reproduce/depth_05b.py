"""Sparse against dense decode at depth, at MiniCPM4-0.5B shapes with the MiniCPM4-8B's
InfLLM-v2 ``sparse_config`` (the 0.5B itself has none).

One checkpoint (the 0.5B-shape ternary one, random weights, plus the 8B's sparse_config) exported
twice, ``--sparse`` and ``--no-sparse``, with the same KV cache length:
``python -m benchmarks.peers_depth_artifacts`` makes ``depth-sparse-pte`` and ``depth-dense-pte``
under the artifacts folder. Making them takes minutes, so reproduce never does; a missing one is
named with that command.

Each program runs in the native runner's serving mode (``serve_depth``), which keeps its KV cache
between turns: one untimed turn of filler fills it to a depth, then ``ROUNDS`` short turns of
``N_GEN`` greedy tokens each give the runner's own decode rate there; dense and sparse turns
alternate, so drift on the machine hits both alike. Both are filled to the next depth and timed
again. Below ``dense_len`` (8192) the sparse program attends densely too: that depth is the
control, its ratio should be about 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

SPARSE_CHECKPOINT = "ternary-8b-sparse"   # the 0.5B-shape ternary checkpoint + the 8B's sparse_config
BUNDLES = {"dense": "depth-dense-pte", "sparse": "depth-sparse-pte"}
MODES = tuple(BUNDLES)
# 12288 rather than 16384: prefilling the deeper context once per program is most of the time
# (the run to 16384 took 11 minutes in all on the loaded 2-core dev VM); the bundles hold 16K.
DEPTHS = (4096, 12288)
QUICK_DEPTHS = (256, 1024)                 # --quick: the same path, both below dense_len (not figures)
N_GEN, ROUNDS = 32, 3
TURN_ROOM = 512                           # positions after the deepest fill: its timed turns (3 x 34) and more
MAX_SEQ_LEN = 16384 + 1024                # room for depths up to 16K
MAKE_HINT = "python -m benchmarks.peers_depth_artifacts"
DENSE_LEN_8B = 8192                       # the 8B's sparse_config.dense_len (the bundle's own wins when present)


def bundle_of(artifacts: Path, mode: str) -> Path:
    return artifacts / BUNDLES[mode]


def missing_bundle(artifacts: Path, mode: str) -> str:
    """Why the ``mode`` bundle cannot be timed ("" when it can): absent, or too short for the depths."""
    import json

    bundle = bundle_of(artifacts, mode)
    manifest = bundle / "manifest.json"
    if not manifest.is_file():
        return f"no bundle at {bundle} (make it with `{MAKE_HINT}`)"
    manifest = json.loads(manifest.read_text())
    if manifest.get("features", {}).get("sparse_attention", False) != (mode == "sparse"):
        return (f"{bundle} is not a {mode}-attention program (re-make it with `{MAKE_HINT} --fresh`)")
    have = manifest.get("max_seq_len", 0)
    need = max(DEPTHS) + TURN_ROOM
    if have < need:
        return f"{bundle} holds {have} positions, the deepest run needs {need} (re-make it with `{MAKE_HINT} --fresh`)"
    return ""


@dataclass
class DepthSpeed:
    depth: int
    tok_s: dict[str, list[float]] = field(default_factory=dict)  # mode -> the runner's decode rate per round
    missing: str = ""                                            # why it was not measured
    positions: dict[str, int] = field(default_factory=dict)      # mode -> the context each decoded after

    def median(self, mode: str) -> float | None:
        from edgecpm.bench_timing import median

        rates = self.tok_s.get(mode)
        return median(rates) if rates else None

    @property
    def speedup(self) -> float | None:
        """Sparse over dense decode rate (medians); None unless both were measured."""
        from edgecpm.reproduce.claims import ratio

        if self.missing:
            return None
        sparse, dense = self.median("sparse"), self.median("dense")
        return None if sparse is None or dense is None else ratio(sparse, dense)


class Session(Protocol):
    """One program's conversation: ``fill_to`` prefills context (untimed) up to a depth and
    returns the position reached; ``decode`` times one short turn and returns the runner's stats."""

    def fill_to(self, depth: int) -> int: ...

    def decode(self) -> dict: ...

    def close(self) -> None: ...


def measure(artifacts: Path, rounds: int, depths: tuple[int, ...] = DEPTHS,
            open_session: Callable[[str], Session] | None = None) -> list[DepthSpeed]:
    """Each depth's dense and sparse decode rates over ``rounds`` turns each, alternating (dense
    first in even rounds, sparse first in odd ones, so neither always runs second). Both programs
    are filled to a depth before either is timed there. ``open_session(mode)``: by default the
    native runner serving that mode's bundle."""
    from edgecpm.errors import EdgecpmError

    why = "; ".join(filter(None, (missing_bundle(artifacts, m) for m in MODES)))
    if not why and open_session is None:
        open_session, why = _runner_sessions(artifacts)
    if why:
        return [DepthSpeed(d, missing=why) for d in depths]
    done: list[DepthSpeed] = []
    sessions: dict[str, Session] = {}
    try:
        for mode in MODES:
            sessions[mode] = open_session(mode)
        for depth in depths:
            speed = DepthSpeed(depth, {m: [] for m in MODES})
            speed.positions = {m: sessions[m].fill_to(depth) for m in MODES}
            for r in range(rounds):
                for mode in (MODES if r % 2 == 0 else MODES[::-1]):
                    speed.tok_s[mode].append(float(sessions[mode].decode()["decode_tok_s"]))
            done.append(speed)
    except EdgecpmError as e:   # a broken bundle or runner: the depths not done say so
        done += [DepthSpeed(d, missing=str(e)) for d in depths[len(done):]]
    finally:
        for s in sessions.values():
            s.close()
    return done


def _runner_sessions(artifacts: Path) -> tuple[Callable[[str], Session] | None, str]:
    """The native runner serving each mode's bundle, or why it cannot ("" when it can)."""
    from edgecpm.export.targets import load_target
    from edgecpm.reproduce.serve_depth import ServeSession

    runner = load_target("host").kernel_dir / "edgecpm-runner"
    if not runner.is_file():
        return None, f"{runner} is not built (`make kernels`)"
    return (lambda mode: ServeSession(runner, bundle_of(artifacts, mode), N_GEN)), ""


@dataclass
class Footprint:
    """What one decode step reads, from the bundles: where the time goes at depth."""
    kv_bytes_per_position: int   # layers x KV heads x head_dim x 4 bytes (fp32) x 2 (K and V)
    weights_bytes: int           # the dense program's model.pte: every weight is read once a step
    sparse_positions: int        # the sparse budget: (topk + local) blocks x block_size
    dense_len: int               # below it the sparse program attends densely too
    compressed_stride: int       # one compressed key per kernel_stride positions (what selection scores)

    def kv_mib(self, positions: int) -> float:
        return positions * self.kv_bytes_per_position / 2**20

    def note(self, depth: int) -> str:
        """KV read per step, dense against sparse, beside the weights."""
        dense = f"KV read per step {self.kv_mib(depth):.0f} MiB dense"
        weights = f"weights {self.weights_bytes / 2**20:.0f} MiB"
        if depth < self.dense_len:
            return f"{dense} (sparse the same: below dense_len {self.dense_len} it attends densely), {weights}"
        read = min(depth, self.sparse_positions)
        scored = self.kv_mib(depth // self.compressed_stride) / 2   # keys only: half of K and V
        return (f"{dense} vs {self.kv_mib(read):.0f} MiB sparse ({read} of {depth} positions) + "
                f"{scored:.0f} MiB compressed keys, {weights}")


def footprint(artifacts: Path) -> Footprint:
    import json

    from edgecpm.attention.infllm_v2 import SparseParams
    from edgecpm.attention.sparse_config import SparseConfig

    dense = bundle_of(artifacts, "dense")
    cfg = json.loads((bundle_of(artifacts, "sparse") / "manifest.json").read_text())["config"]
    head_dim = cfg["hidden_size"] // cfg["num_attention_heads"]
    params = SparseParams.from_config(SparseConfig(**cfg["sparse_config"]))
    return Footprint(cfg["num_hidden_layers"] * cfg["num_key_value_heads"] * head_dim * 4 * 2,
                     (dense / "model.pte").stat().st_size, params.topk * params.block_size, params.dense_len,
                     params.kernel_stride)
