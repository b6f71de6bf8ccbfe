"""``bench --compare``: peers named and checked before any run, their weights found from the bundle,
our checkpoint mapped onto export_llm's Llama, and (where llama-cpp-python is installed) a whole
comparison at tiny shapes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from edgecpm.checkpoint.contents import load_config
from edgecpm.checkpoint.locate import resolve_model
from edgecpm.errors import EdgecpmError
from edgecpm.peers import compare, llamacpp
from edgecpm.peers.compare import PeerSources, parse_peers, peer_sources
from edgecpm.peers.et_8da4w import interleaved_rope_rows, llama_params, llama_state


def test_peer_names_are_checked():
    assert parse_peers("llama.cpp, et-8da4w,llama.cpp") == ["llama.cpp", "et-8da4w"]
    with pytest.raises(EdgecpmError, match="choose from llama.cpp, et-8da4w"):
        parse_peers("llama.cpp,mlc")
    with pytest.raises(EdgecpmError, match="choose from"):
        parse_peers(",")


def test_a_missing_llama_cpp_is_named_with_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.delenv("EDGECPM_LLAMA_PYTHON", raising=False)
    monkeypatch.setattr(llamacpp, "CHECKOUT_VENV", tmp_path / "none" / "python")
    monkeypatch.setattr(llamacpp.importlib.util, "find_spec", lambda name: None)
    (msg,) = compare.missing_peers(["llama.cpp"])
    assert "make bench-peers" in msg and "EDGECPM_LLAMA_PYTHON" in msg
    monkeypatch.setenv("EDGECPM_LLAMA_PYTHON", "/opt/llama/bin/python")
    assert compare.missing_peers(["llama.cpp"]) == []


def bundle_naming(folder: Path, source) -> Path:
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"model": "q", **({"source": str(source)} if source else {})}))
    return folder


def checkpoint(folder: Path, quant_source=None) -> Path:
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    if quant_source is not None:
        (folder / "quant_config.json").write_text(json.dumps({"scheme": "int4", "source": str(quant_source)}))
    return folder


def test_weights_come_from_the_manifest_or_weights(tmp_path):
    fp = checkpoint(tmp_path / "fp")
    q = checkpoint(tmp_path / "q", quant_source=fp)
    assert peer_sources(bundle_naming(tmp_path / "a", q), None) == PeerSources(q, fp)
    # --weights wins; a float checkpoint is its own float source
    assert peer_sources(bundle_naming(tmp_path / "b", None), fp) == PeerSources(fp, fp)
    with pytest.raises(EdgecpmError, match="pass --weights DIR"):
        peer_sources(bundle_naming(tmp_path / "c", tmp_path / "gone"), None)
    with pytest.raises(EdgecpmError, match="its manifest names none"):
        peer_sources(bundle_naming(tmp_path / "d", None), None)


def test_et_8da4w_needs_the_float_weights(tmp_path):
    with pytest.raises(EdgecpmError, match="quantizes from float weights"):
        compare.check_sources(["et-8da4w"], PeerSources(tmp_path, tmp_path / "gone"))
    compare.check_sources(["llama.cpp"], PeerSources(tmp_path, tmp_path / "gone"))  # llama.cpp reads the checkpoint


def test_our_weights_fit_export_llms_llama_name_for_name():
    pytest.importorskip("executorch.examples.models.llama.llama_transformer")
    from executorch.examples.models.llama.llama_transformer import construct_transformer
    from executorch.examples.models.llama.model_args import ModelArgs

    tiny = resolve_model("tiny")
    cfg = load_config(tiny)
    with torch.device("meta"):
        llama = construct_transformer(ModelArgs(**llama_params(cfg)))
    want = {k: tuple(v.shape) for k, v in llama.state_dict().items() if k.endswith("weight")}
    got = {k: tuple(v.shape) for k, v in llama_state(tiny, cfg).items()}
    assert got == want


def test_rope_rows_go_from_half_split_to_interleaved():
    order = interleaved_rope_rows(8, 1)  # one head of 8 rows: pairs (0, 4), (1, 5), ...
    assert order.tolist() == [0, 4, 1, 5, 2, 6, 3, 7]
    assert sorted(interleaved_rope_rows(64, 4).tolist()) == list(range(64))


@pytest.mark.slow
def test_llama_cpp_beside_our_runner_on_the_same_bundle(tiny_bundles, tmp_path, monkeypatch):
    """The int4 tiny bundle and llama.cpp on our GGUF export of its checkpoint, both timed, with a
    ratio line; the GGUF is cached by checkpoint."""
    if llamacpp.llama_python() is None:
        pytest.skip(llamacpp.INSTALL_HINT)
    from edgecpm.bench import run_bench

    monkeypatch.setenv("EDGECPM_CACHE", str(tmp_path / "cache"))
    _, bundle = tiny_bundles["int4"]
    report = run_bench(str(bundle), n_prompt=8, n_gen=4, reps=1, compare=["llama.cpp"])
    peers = [r for r in report.rows if r.backend.startswith("llama.cpp")]
    assert [r.test for r in peers] == ["pp8", "tg4"] and all(r.mean > 0 for r in peers)
    assert any(line.startswith("edgecpm-runner") and "/ llama.cpp tg4:" in line for line in report.notes)
    assert len(list((tmp_path / "cache" / "peers").glob("gguf-*/model.gguf"))) == 1
    shutil.rmtree(tmp_path / "cache")


def test_the_cli_refuses_before_any_run():
    from tests.cli.test_bench_options import invoke

    r = invoke("bench", "tiny", "--compare", "llama.cpp,mlc")
    assert r.exit_code == 2 and "choose from llama.cpp, et-8da4w" in r.output
    r = invoke("bench", "tiny", "--weights", "x")
    assert r.exit_code == 2 and "--weights" in r.output and "only with --compare" in r.output
    r = invoke("bench", "tiny", "--compare", "llama.cpp", "-n", "2", "--n-prompt", "4", "-r", "1")
    assert r.exit_code == 2 and "compared with an exported bundle" in r.output


@pytest.mark.slow
def test_executorch_8da4w_of_the_same_weights_beside_our_runner(tiny_bundles, tmp_path, monkeypatch):
    """export_llm's 8da4w program of the tiny model's own float weights (2-3 minutes), timed beside
    the int4 bundle, its logits finite; cached, so a second comparison exports nothing."""
    pytest.importorskip("executorch.examples.models.llama.export_llama_lib")
    from edgecpm.bench import run_bench

    monkeypatch.setenv("EDGECPM_CACHE", str(tmp_path / "cache"))
    _, bundle = tiny_bundles["int4"]
    report = run_bench(str(bundle), n_prompt=8, n_gen=4, reps=1, compare=["et-8da4w"])
    peers = [r for r in report.rows if "8da4w" in r.backend]
    assert [r.test for r in peers] == ["pp8", "tg4"] and all(r.mean > 0 for r in peers)
    assert any("/ et-8da4w tg4:" in line for line in report.notes)
    (program,) = (tmp_path / "cache" / "peers").glob("export-llm-*/model-ctx*.pte")
    stamp = program.stat().st_mtime_ns
    run_bench(str(bundle), n_prompt=8, n_gen=4, reps=1, compare=["et-8da4w"])
    assert program.stat().st_mtime_ns == stamp
