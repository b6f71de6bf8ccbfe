"""All three in one program: quantized weights (ternary TQ2_0, int4), InfLLM-v2 sparse attention and
an EAGLE draft head with an FR-Spec subset (tests/conftest.py ``TinyBundles["ternary-all"]``,
``["int4-all"]``). The manifest says which are on; ``edgecpm-runner --spec`` and ``edgecpm generate
--spec program`` give the program's plain greedy tokens, at contexts of 37..69 slots where the
sparse budget (32 slots) drops blocks.
"""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from tests.conftest import TINY_SPARSE
from tests.runner.test_runner import HOST_RUNNER, require
from tests.runner.test_runner_spec import SPEC_FLAGS, runner_stats

N = 32
SCHEMES = ["ternary", "int4"]


@pytest.fixture(scope="module")
def prompts():
    """Eight 36-token windows of the embedded corpus's held-out split, after BOS."""
    from edgecpm.checkpoint.locate import resolve_model
    from edgecpm.speculative.train import held_out_prompts
    from edgecpm.tiny.corpus import split_text, stdlib_documents
    from edgecpm.tokenizer.tokenizer import load_tokenizer

    _, held = split_text(stdlib_documents())
    return held_out_prompts(load_tokenizer(resolve_model("tiny")).encode(held[:20000]), 8, 36, bos=1)


@pytest.mark.slow
@pytest.mark.parametrize("scheme", SCHEMES)
def test_manifest_names_all_three(tiny_bundles, scheme):
    _, bundle = tiny_bundles[f"{scheme}-all"]
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["features"] == {"weights": scheme, "sparse_attention": True, "draft": "tiny-draft",
                                    "frspec_ids": 2048}
    assert {"edgecpm::infllm_attention.out", "edgecpm::infllm_tree_attention.out"} <= set(manifest["operators"])
    assert manifest["config"]["sparse_config"]["block_size"] == TINY_SPARSE["block_size"]


@pytest.mark.slow
@pytest.mark.parametrize("scheme", SCHEMES)
def test_runner_spec_gives_plain_tokens(tiny_bundles, prompts, scheme):
    _, bundle = tiny_bundles[f"{scheme}-all"]
    runner = [str(require(HOST_RUNNER, "kernels"))]
    steps = emitted = 0
    for prompt in prompts:
        want = runner_stats(runner, bundle, prompt, n=N)["tokens"]
        for mode in ("chain", "tree"):
            stats = runner_stats(runner, bundle, prompt, *SPEC_FLAGS[mode], n=N)
            assert stats["tokens"] == want, (mode, prompt)
            steps += stats["verify_steps"]
            emitted += stats["verify_steps"] * stats["mean_accepted"]
    assert emitted / steps > 1.3  # the draft head is really used: paths longer than one token


@pytest.mark.slow
def test_generate_spec_program_and_blocks_dropped(tiny_bundles, prompts):
    from edgecpm.checkpoint.loader import load_model
    from edgecpm.cli.app import app
    from edgecpm.generate import generate
    from tests.attention.test_sparse_model import set_dense

    ckpt, bundle = tiny_bundles["ternary-all"]
    r = CliRunner().invoke(app, ["generate", str(bundle), "--spec", "program", "-p", "def parse(self, text):",
                                 "-n", "24", "--stats"])
    assert r.exit_code == 0, r.output
    assert "output identical to plain" in r.output
    # The checkpoint's sparse attention is not dense attention on these contexts.
    model = load_model(ckpt, max_seq_len=96)
    with torch.no_grad():
        sparse = [generate(model, p, N).tokens for p in prompts[:4]]
        set_dense(model, True)
        dense = [generate(model, p, N).tokens for p in prompts[:4]]
    assert sparse != dense
