"""The committed draft head for the embedded tiny model: it loads, it is lossless, it accepts."""

from __future__ import annotations

import pytest
import torch

from edgecpm.checkpoint.loader import load_model
from edgecpm.checkpoint.locate import resolve_model
from edgecpm.generate import generate
from edgecpm.runtime.eager import EagerBase
from edgecpm.speculative.decode import speculative_generate
from edgecpm.speculative.draft import load_draft, resolve_draft
from edgecpm.speculative.tree import SpecConfig
from edgecpm.tokenizer.tokenizer import load_tokenizer

TEXTS = ["Return the number of", "Raise ValueError if the", "This module provides functions for",
         "The default value is", "If the argument is a string, it"]


@pytest.fixture(scope="module")
def tiny():
    model_dir = resolve_model("tiny")
    model = load_model(model_dir, dtype=torch.float32, max_seq_len=128)
    draft = load_draft(resolve_draft("tiny-draft"), model.config).bind(model)
    tok = load_tokenizer(model_dir, 1, [2])
    return model, draft, [tok.encode(t, bos=True) for t in TEXTS]


@pytest.mark.parametrize("spec", [SpecConfig(), SpecConfig(mode="chain", chain_len=3)], ids=["tree", "chain"])
def test_tiny_draft_is_lossless_and_accepts(tiny, spec):
    model, draft, prompts = tiny
    steps = emitted = 0
    for prompt in prompts:
        ref = generate(model, prompt, 32, eos_ids=[2]).tokens
        out = speculative_generate(EagerBase(model), draft, prompt, 32, spec=spec, eos_ids=[2])
        assert out.tokens == ref
        steps += out.verify_steps
        emitted += sum(out.accepted_per_step)
    # A trained draft, not a random one (which accepts ~1.0): a loose floor, the benchmark
    # script measures the real figure on held-out text.
    assert emitted / steps > 1.5


@pytest.mark.parametrize("mode", ["--tree", "--chain"])
def test_generate_spec_stats_cli(tmp_path, mode):
    from typer.testing import CliRunner

    from edgecpm.cli.app import app

    corpus = tmp_path / "c.txt"
    corpus.write_text(" ".join(TEXTS) * 20)
    fr = tmp_path / "fr.safetensors"
    assert CliRunner().invoke(app, ["frspec", "tiny", "--corpus", str(corpus), "--size", "2048",
                                    "-o", str(fr)]).exit_code == 0
    r = CliRunner().invoke(app, ["generate", "tiny", "-p", TEXTS[0], "-n", "16", "--spec", "tiny-draft",
                                 mode, "--frspec", str(fr), "--stats"])
    assert r.exit_code == 0, r.output
    assert "mean accepted" in r.output and "output identical to plain" in r.output
    r = CliRunner().invoke(app, ["generate", "tiny", "-p", "x", "--spec", str(tmp_path / "none")])
    assert r.exit_code == 2 and "no such draft head" in r.output
