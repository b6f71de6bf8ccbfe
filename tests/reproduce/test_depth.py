"""Sparse against dense decode at depth (the edge experiment's depth rows): the interleaving, the
ratio of medians from injected timings, the rows and their notes, and missing bundles named with
the command that makes them."""

from __future__ import annotations

import json

import pytest

from edgecpm.reproduce import depth_05b, edge
from edgecpm.reproduce.depth_05b import DepthSpeed, Footprint

FOOTPRINT = Footprint(kv_bytes_per_position=24576, weights_bytes=165 * 2**20, sparse_positions=6144,
                      dense_len=8192, compressed_stride=16)


class FakeSession:
    """Rates from a table by (mode, depth), a log of every call in order."""

    def __init__(self, mode: str, rates: dict, log: list):
        self.mode, self.rates, self.log, self.depth, self.calls = mode, rates, log, 0, 0

    def fill_to(self, depth: int) -> int:
        self.log.append(("fill", self.mode, depth))
        self.depth = depth
        return depth - 3

    def decode(self) -> dict:
        self.log.append(("decode", self.mode, self.depth))
        rate = self.rates[self.mode, self.depth][self.calls % 3]
        self.calls += 1
        return {"decode_tok_s": rate}

    def close(self) -> None:
        self.log.append(("close", self.mode, self.depth))


def bundles(tmp_path, sparse_flags=(False, True), max_seq_len=depth_05b.MAX_SEQ_LEN):
    for mode, sparse in zip(depth_05b.MODES, sparse_flags):
        b = depth_05b.bundle_of(tmp_path, mode)
        b.mkdir(parents=True)
        (b / "manifest.json").write_text(json.dumps({"max_seq_len": max_seq_len,
                                                     "features": {"sparse_attention": sparse}}))
    return tmp_path


def test_both_programs_are_filled_then_timed_alternately(tmp_path):
    rates = {("dense", 100): [10.0, 11.0, 12.0], ("sparse", 100): [10.0, 12.0, 11.0],
             ("dense", 200): [4.0, 5.0, 6.0], ("sparse", 200): [9.0, 30.0, 10.0]}
    log: list = []
    got = depth_05b.measure(bundles(tmp_path), 3, (100, 200), lambda m: FakeSession(m, rates, log))
    assert log[:4] == [("fill", "dense", 100), ("fill", "sparse", 100), ("decode", "dense", 100),
                       ("decode", "sparse", 100)]
    assert log[4:6] == [("decode", "sparse", 100), ("decode", "dense", 100)]   # odd rounds: sparse first
    assert log[-2:] == [("close", "dense", 200), ("close", "sparse", 200)]
    assert [s.speedup for s in got] == [pytest.approx(1.0), pytest.approx(10.0 / 5.0)]   # medians, not means
    assert got[1].positions == {"dense": 197, "sparse": 197}


def test_a_failing_session_leaves_the_rest_not_measured(tmp_path):
    from edgecpm.errors import EdgecpmError

    class Broken(FakeSession):
        def fill_to(self, depth):
            if depth == 200:
                raise EdgecpmError("edgecpm-runner --serve on X ended early")
            return super().fill_to(depth)

    rates = {(m, 100): [5.0, 5.0, 5.0] for m in depth_05b.MODES}
    log: list = []
    first, second = depth_05b.measure(bundles(tmp_path), 2, (100, 200), lambda m: Broken(m, rates, log))
    assert first.speedup == pytest.approx(1.0)
    assert second.speedup is None and "ended early" in second.missing
    assert [e[0] for e in log[-2:]] == ["close", "close"]


def test_missing_bundles_are_named_with_the_command_that_makes_them(tmp_path):
    got = depth_05b.measure(tmp_path, 3, open_session=lambda m: pytest.fail("nothing to run"))
    assert [s.depth for s in got] == list(depth_05b.DEPTHS)
    assert all("python -m benchmarks.peers_depth_artifacts" in s.missing for s in got)
    rows = edge.depth_claims(got, 3, None)
    assert not any(r.measured for r in rows)
    assert "control" in rows[0].claim and f"no bundle at {tmp_path / 'depth-dense-pte'}" in rows[0].ours


def test_a_bundle_of_the_wrong_kind_or_too_short_is_refused(tmp_path):
    swapped = bundles(tmp_path / "a", sparse_flags=(True, False))
    assert "not a dense-attention program" in depth_05b.missing_bundle(swapped, "dense")
    short = bundles(tmp_path / "b", max_seq_len=4096)
    assert "holds 4096 positions" in depth_05b.missing_bundle(short, "sparse")


def test_rows_give_the_ratio_and_where_the_time_goes():
    control = DepthSpeed(4096, {"dense": [30.0, 29.0, 31.0], "sparse": [29.0, 30.0, 28.0]},
                         positions={"dense": 4090, "sparse": 4090})
    deep = DepthSpeed(16384, {"dense": [12.0, 11.0, 13.0], "sparse": [20.0, 19.0, 22.0]},
                      positions={"dense": 16380, "sparse": 16380})
    low, high = edge.depth_claims([control, deep], 3, FOOTPRINT)
    assert low.claim == "sparse vs dense decode @ d4096 (control: both dense)"
    assert low.ours == "29.0 vs 30.0 tok/s (0.97×)" and low.ours_value == pytest.approx(29 / 30)
    assert "sparse the same: below dense_len 8192" in low.scale and "96 MiB dense" in low.scale
    assert high.ours == "20.0 vs 12.0 tok/s (1.67×)" and high.paper == edge.PAPER_JETSON
    assert "8B's sparse_config (the 0.5B has none)" in high.scale and "after 16380 positions" in high.scale
    assert "384 MiB dense vs 144 MiB sparse (6144 of 16384 positions) + 12 MiB compressed keys" in high.scale
    assert "weights 165 MiB" in high.scale


def test_footprint_reads_the_bundles(tmp_path):
    from dataclasses import asdict

    from edgecpm.model.presets import preset

    cfg = {"hidden_size": 1024, "num_attention_heads": 16, "num_hidden_layers": 24, "num_key_value_heads": 2,
           "sparse_config": asdict(preset("minicpm4-8b").sparse_config)}
    for mode in depth_05b.MODES:
        b = depth_05b.bundle_of(tmp_path, mode)
        b.mkdir()
        (b / "manifest.json").write_text(json.dumps({"config": cfg}))
        (b / "model.pte").write_bytes(b"x" * 1000)
    assert depth_05b.footprint(tmp_path) == Footprint(24576, 1000, 96 * 64, 8192, 16)


@pytest.mark.slow
def test_the_serving_runner_fills_to_a_depth_then_times_turns(tiny_bundles):
    from edgecpm.export.targets import load_target
    from edgecpm.reproduce.serve_depth import ServeSession

    runner = load_target("host").kernel_dir / "edgecpm-runner"
    if not runner.is_file():
        pytest.skip("the native runner is not built (make kernels)")
    _, bundle = tiny_bundles["float"]
    session = ServeSession(runner, bundle, n_gen=4)
    try:
        reached = session.fill_to(60)
        assert 60 - session.paragraph_tokens < reached <= 60
        stats = session.decode()
        assert stats["generated_tokens"] == 4 and stats["decode_tok_s"] > 0
        assert session.position > reached
    finally:
        session.close()
    assert session.proc.returncode == 0


def test_a_control_far_from_one_is_said_in_the_differs_line():
    near = DepthSpeed(4096, {"dense": [30.0], "sparse": [29.0]})
    far = DepthSpeed(4096, {"dense": [58.0], "sparse": [6.7]})
    deep = DepthSpeed(12288, {"dense": [10.0], "sparse": [5.0]})   # not a control: never named
    assert edge.control_line([near, deep], 8192) == ""
    line = edge.control_line([far, deep], 8192)
    assert "The control is not ≈1 (0.12× at d4096)" in line and "d12288" not in line
    assert edge.control_line([DepthSpeed(4096, missing="no bundle")], 8192) == ""
