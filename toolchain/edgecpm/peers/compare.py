"""``bench --compare``: the peers of an exported bundle, run on the same weights with the same prompt,
as rows beside ours and a ratio line each.

Which weights: the checkpoint the bundle was exported from (the manifest's ``source``, or
``--weights DIR``) for llama.cpp, which runs our GGUF export of it; the float checkpoint that one
was quantized from (its ``quant_config.json`` ``source``; the checkpoint itself when it is float)
for ExecuTorch's 8da4w, which quantizes for itself. Every peer asked for must be runnable before
any benchmarking starts: a missing one is named with how to install it, never skipped.
"""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

from edgecpm.bench_records import BenchRow
from edgecpm.errors import EdgecpmError
from edgecpm.peers import PEERS


@dataclass(frozen=True)
class PeerSources:
    checkpoint: Path  # what the bundle was exported from (quantized or float)
    float_weights: Path  # what that was quantized from


def parse_peers(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in PEERS]
    if not names or unknown:
        raise EdgecpmError(f"--compare {text}: choose from {', '.join(PEERS)} (comma-separated)")
    return list(dict.fromkeys(names))


def missing_peers(names: list[str]) -> list[str]:
    """One message per peer that cannot run here, saying how to get it."""
    from edgecpm.peers.llamacpp import INSTALL_HINT, llama_python

    missing = []
    if "llama.cpp" in names and llama_python() is None:
        missing.append(f"llama.cpp: {INSTALL_HINT}")
    if "et-8da4w" in names and importlib.util.find_spec("executorch.examples.models.llama") is None:
        missing.append("et-8da4w: ExecuTorch's export_llm (executorch.examples.models.llama) is not importable; "
                       "install the executorch wheel edgecpm pins (`edgecpm doctor` shows it)")
    return missing


def peer_sources(bundle: Path, weights: Path | None) -> PeerSources:
    manifest = json.loads((bundle / "manifest.json").read_text())
    checkpoint = Path(weights or manifest.get("source") or "")
    if not (checkpoint / "config.json").is_file():
        where = f"--weights {weights}" if weights else (f"its manifest names {manifest['source']}" if
                                                         manifest.get("source") else "its manifest names none")
        raise EdgecpmError(f"--compare {bundle}: the checkpoint it was exported from is needed ({where}, which is "
                           "not a checkpoint folder): pass --weights DIR")
    quant = checkpoint / "quant_config.json"
    float_weights = checkpoint
    if quant.is_file():
        source = json.loads(quant.read_text()).get("source")
        float_weights = Path(source) if source else Path("")
    return PeerSources(checkpoint, float_weights)


def check_sources(names: list[str], sources: PeerSources) -> None:
    if "et-8da4w" in names and not (sources.float_weights / "config.json").is_file():
        raise EdgecpmError(f"--compare et-8da4w: {sources.checkpoint}/quant_config.json names no float checkpoint "
                           f"that exists ({sources.float_weights}); ExecuTorch's 8da4w quantizes from float weights")


def prepare_peers(names: list[str], sources: PeerSources, max_context: int, progress=print) -> dict[str, Path]:
    """Each peer's artifact, made (or found in the cache) before any timing: our GGUF export of the
    checkpoint for llama.cpp, export_llm's 8da4w program of the float weights for et-8da4w."""
    from edgecpm.checkpoint.contents import load_config
    from edgecpm.peers import et_8da4w, llamacpp

    artifacts = {}
    for name in names:
        if name == "llama.cpp":
            artifacts[name] = llamacpp.gguf_of(sources.checkpoint, progress)
        else:
            cfg = load_config(sources.float_weights)
            artifacts[name] = et_8da4w.export_8da4w(sources.float_weights, cfg, max_context, progress)
    return artifacts


def peer_rows(artifacts: dict[str, Path], params_m: float, prompt: list[int], n_gen: int, reps: int,
              threads: int | None, device: str) -> dict[str, list[BenchRow]]:
    """Each peer's prefill and decode rows: ``reps`` runs, each a fresh process (after one untimed
    warm-up inside it)."""
    from edgecpm.peers import et_8da4w, llamacpp

    rows = {}
    for name, artifact in artifacts.items():
        if name == "llama.cpp":
            n_threads = threads or os.cpu_count() or 1
            runs = [llamacpp.time_gguf(artifact, prompt, n_gen, n_threads) for _ in range(reps)]
            plain = "" if all(r["extra_bufts"] for r in runs) else ", plain buffers (AMX/repack crashed)"
            backend = f"llama.cpp ({runs[0]['runtime']}), our GGUF{plain}"
        else:
            n_threads = os.cpu_count() or 1
            runs = [et_8da4w.time_8da4w(artifact, prompt, n_gen) for _ in range(reps)]
            backend = f"{runs[0]['runtime']}, export_llm"
        if not all(r["logits_finite"] for r in runs):
            raise EdgecpmError(f"the {name} peer produced non-finite logits on {artifact}; its figures would not "
                               "be a fair run")
        size_mib = artifact.stat().st_size / 2**20
        rows[name] = [BenchRow(f"{artifact.name} ({name})", size_mib, params_m, backend, n_threads, test,
                               [r[key] for r in runs], device=device)
                      for test, key in ((f"pp{len(prompt)}", "prefill_tok_s"), (f"tg{n_gen}", "decode_tok_s"))]
    return rows


def ratio_lines(ours: list[BenchRow], peers: dict[str, list[BenchRow]]) -> list[str]:
    """Ours over each peer, per test, from medians."""
    mine = {r.test: r for r in ours}
    return [f"{ours[0].backend} / {name} {r.test}: {mine[r.test].median / r.median:.2f}x"
            for name, rows in peers.items() for r in rows if r.test in mine]
