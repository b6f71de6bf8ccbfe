"""edgecpm-runner --spec chain|tree: greedy speculative decoding over the program's ``verify`` and
``draft`` methods gives exactly the runner's plain tokens (``forward``), and the Python runtime's.

The bundle is the float tiny model exported with the tiny-draft head (tests/conftest.py
``TinyBundles["float-spec"]``). Plain and speculative decoding run the same program, whose
``forward`` and ``verify`` share one KV cache and ``draft`` has its own (shared mutable buffers):
the runner must give all methods one set of planned arenas, which these runs also check.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import GREEDY_PROMPT
from tests.runner.test_runner import AARCH64_LIBS, AARCH64_RUNNER, HOST_RUNNER, exported_for, qemu, require

N = 32
TEXTS = ["def main():", "Raise ValueError if the", "import numpy as np", "The quick brown fox",
         "for i in range(10):", "return self.", "class Foo(object):", "# TODO: fix the"]
SPEC_FLAGS = {"chain": ["--spec", "chain"], "chain-1": ["--spec", "chain", "--chain-len", "1"],
              "tree": ["--spec", "tree"], "tree-1/4/6": ["--spec", "tree", "--tree", "1/4/6"]}


def runner_stats(command: list[str], bundle, prompt: list[int], *flags: str, env=None, n: int = N) -> dict:
    import json

    res = subprocess.run([*command, "--model", str(bundle / "model.pte"), "--stats-only",
                          "--prompt-ids", ",".join(map(str, prompt)), "-n", str(n), *flags],
                         capture_output=True, text=True, timeout=300, env=env)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def runner_error(*args: str) -> str:
    res = subprocess.run([str(require(HOST_RUNNER, "kernels")), *args], capture_output=True, text=True, timeout=60)
    assert res.returncode != 0
    return res.stderr


@pytest.fixture(scope="module")
def spec_bundle(tiny_bundles):
    return tiny_bundles["float-spec"][1]


@pytest.fixture(scope="module")
def prompts(spec_bundle):
    from edgecpm.tokenizer.tokenizer import load_tokenizer

    tok = load_tokenizer(spec_bundle)
    out = []
    for text in TEXTS:
        ids = tok.encode(text)
        out.append(ids if ids[:1] == [1] else [1, *ids])
    return out


@pytest.fixture(scope="module")
def plain_tokens(spec_bundle, prompts):
    """The runner's plain greedy tokens (forward) for each prompt."""
    runner = [str(require(HOST_RUNNER, "kernels"))]
    return [runner_stats(runner, spec_bundle, p)["tokens"] for p in prompts]


@pytest.mark.slow
def test_plain_runner_matches_python_runtime(spec_bundle, prompts, plain_tokens):
    from edgecpm.generate import generate
    from edgecpm.runtime.pte import PteModel

    model = PteModel(spec_bundle)
    for prompt, tokens in zip(prompts, plain_tokens):
        assert generate(model, prompt, N, eos_ids=model.config.eos_token_id).tokens == tokens, prompt


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(SPEC_FLAGS))
def test_spec_runner_gives_plain_tokens(spec_bundle, prompts, plain_tokens, mode):
    runner = [str(require(HOST_RUNNER, "kernels"))]
    steps = emitted = 0
    for prompt, want in zip(prompts, plain_tokens):
        stats = runner_stats(runner, spec_bundle, prompt, *SPEC_FLAGS[mode])
        assert stats["tokens"] == want, prompt
        assert stats["verify_steps"] > 0 and stats["draft_s"] > 0 and stats["verify_s"] > 0
        steps += stats["verify_steps"]
        emitted += stats["verify_steps"] * stats["mean_accepted"]
    # The tiny draft is trained on the tiny model: more than one token per base call.
    assert emitted / steps > 1.3


@pytest.mark.slow
def test_spec_runner_matches_python_speculative_steps(spec_bundle, prompts):
    """Same trees as the Python reference: same number of verify steps (EAGLE-2 selection order)."""
    from edgecpm.runtime.pte import PteModel
    from edgecpm.runtime.spec_program import load_pte_spec
    from edgecpm.speculative.decode import speculative_generate
    from edgecpm.speculative.tree import SpecConfig

    model = PteModel(spec_bundle)
    base, draft = load_pte_spec(model)
    runner = [str(require(HOST_RUNNER, "kernels"))]
    for prompt in prompts[:3]:
        for cfg, flags in ((SpecConfig(mode="chain", chain_len=3), SPEC_FLAGS["chain"]), (SpecConfig(), SPEC_FLAGS["tree"])):
            py = speculative_generate(base, draft, prompt, N, spec=cfg, eos_ids=model.config.eos_token_id)
            stats = runner_stats(runner, spec_bundle, prompt, *flags)
            assert (stats["tokens"], stats["verify_steps"]) == (py.tokens, py.verify_steps), (prompt, cfg.mode)


@pytest.mark.slow
def test_long_prompt_is_fed_in_chunks(spec_bundle, prompts):
    # 70 tokens: prefill and the draft's catch-up take two calls of at most 64 rows each.
    prompt = (sum(prompts, []) * 4)[:70]
    runner = [str(require(HOST_RUNNER, "kernels"))]
    want = runner_stats(runner, spec_bundle, prompt, n=4)["tokens"]
    for mode in ("chain", "tree"):
        assert runner_stats(runner, spec_bundle, prompt, *SPEC_FLAGS[mode], n=4)["tokens"] == want, mode


@pytest.mark.slow
def test_draft_vocab_file_maps_draft_columns(spec_bundle, tmp_path, plain_tokens, prompts):
    """--draft-vocab: an identity id list over the full vocabulary is accepted and changes nothing;
    one of the wrong size is refused, naming the file."""
    import json

    from edgecpm.export.draft_vocab_bin import write_draft_vocab_bin

    vocab = json.loads((spec_bundle / "manifest.json").read_text())["config"]["vocab_size"]
    ids = tmp_path / "draft_vocab.bin"
    write_draft_vocab_bin(ids, list(range(vocab)))
    runner = [str(require(HOST_RUNNER, "kernels"))]
    stats = runner_stats(runner, spec_bundle, prompts[0], "--spec", "chain", "--draft-vocab", str(ids))
    assert stats["tokens"] == plain_tokens[0]
    short = tmp_path / "short.bin"
    write_draft_vocab_bin(short, list(range(10)))
    err = runner_error("--model", str(spec_bundle / "model.pte"), "--stats-only", "--prompt-ids", "1,2",
                       "--spec", "chain", "--draft-vocab", str(short))
    assert f"{short}: has 10 ids" in err
    headerless = tmp_path / "headerless.bin"
    headerless.write_bytes(b"".join(i.to_bytes(8, "little") for i in range(vocab)))  # the pre-header format
    err = runner_error("--model", str(spec_bundle / "model.pte"), "--stats-only", "--prompt-ids", "1,2",
                       "--spec", "chain", "--draft-vocab", str(headerless))
    assert f"{headerless}: not a draft_vocab.bin of this edgecpm (no ECPMDVB1 header)" in err


@pytest.mark.slow
def test_aarch64_spec_runner_under_qemu_gives_plain_tokens(spec_bundle, tmp_path):
    env = {**os.environ, "LD_LIBRARY_PATH": os.pathsep.join(map(str, AARCH64_LIBS))}
    arm = [*qemu("cortex-a76"), str(require(AARCH64_RUNNER, "kernels-aarch64"))]
    want = runner_stats([str(require(HOST_RUNNER, "kernels"))], spec_bundle, GREEDY_PROMPT)["tokens"]
    arm_bundle = exported_for(spec_bundle, "aarch64", tmp_path / "spec")
    assert runner_stats(arm, arm_bundle, GREEDY_PROMPT, env=env)["tokens"] == want
    stats = runner_stats(arm, arm_bundle, GREEDY_PROMPT, "--spec", "chain", env=env)
    assert stats["tokens"] == want and stats["mean_accepted"] > 1


@pytest.mark.slow
def test_spec_on_a_plain_program_says_how_to_export(tiny_bundles):
    pte = tiny_bundles["float"][1] / "model.pte"
    err = runner_error("--model", str(pte), "--stats-only", "--prompt-ids", "1,2", "--spec", "tree")
    assert f"{pte}: this program has no speculative-decoding methods" in err
    assert "edgecpm export MODEL --draft DRAFT_DIR" in err and err.count("\n") == 1


@pytest.mark.slow
def test_spec_headroom_is_checked(spec_bundle):
    # 5 + 80 tokens fit plain decoding's 96 slots, not with a 2/10/12 tree's 21 draft slots.
    err = runner_error("--model", str(spec_bundle / "model.pte"), "--stats-only", "--prompt-ids", "1,2,3,4,5",
                       "-n", "80", "--spec", "tree")
    assert "+ 21 draft slots exceeds the KV cache" in err and "max_seq_len 96" in err


@pytest.mark.slow
def test_replay_draft_sets_acceptance_and_keeps_plain_tokens(spec_bundle, prompts, plain_tokens):
    """--replay-accept A: the runner's own plain run is the baseline and the reference; the
    speculative run gives the same tokens, at the mean accepted length a chain of 3 should have
    ((1 - A^4) / (1 - A)), exactly at A = 0 and A = 1."""
    from edgecpm.bench_spec.replay import chain_mean

    runner = [str(require(HOST_RUNNER, "kernels"))]
    for accept in (0.0, 0.6, 1.0):
        steps = emitted = 0
        for seed, (prompt, want) in enumerate(zip(prompts, plain_tokens)):
            stats = runner_stats(runner, spec_bundle, prompt, "--spec", "chain", "--chain-len", "3",
                                 "--replay-accept", str(accept), "--seed", str(seed))
            assert stats["tokens"] == want, (accept, prompt)
            assert stats["replay_tokens_equal"] is True and stats["replay_first_difference"] == -1
            assert stats["replay_accept"] == accept and stats["plain_decode_tok_s"] > 0
            assert stats["plain_forward_ms"] > 0 and "4" in stats["verify_in_place_calls"]
            steps += stats["verify_steps"]
            emitted += stats["verify_steps"] * stats["mean_accepted"]
        mean = emitted / steps
        if accept in (0.0, 1.0):
            # Every step keeps none / all of its 3 drafted tokens (an eos ends a run early, not a step).
            assert mean == pytest.approx(chain_mean(accept, 3), abs=0.01), accept
        else:
            assert mean == pytest.approx(chain_mean(accept, 3), abs=0.3), accept


@pytest.mark.slow
def test_replay_draft_on_a_tree_keeps_plain_tokens(spec_bundle, prompts, plain_tokens):
    runner = [str(require(HOST_RUNNER, "kernels"))]
    for prompt, want in list(zip(prompts, plain_tokens))[:3]:
        stats = runner_stats(runner, spec_bundle, prompt, "--spec", "tree", "--replay-accept", "0.7")
        assert stats["tokens"] == want and stats["replay_tokens_equal"] is True and stats["mean_accepted"] > 1.5


def test_replay_flag_is_checked():
    assert "pass --spec chain or --spec tree" in runner_error("--model", "x.pte", "--prompt-ids", "1",
                                                               "--stats-only", "--replay-accept", "0.5")
    assert "--replay-accept expects a number from 0" in runner_error(
        "--model", "x.pte", "--prompt-ids", "1", "--stats-only", "--spec", "chain", "--replay-accept", "1.5")
    assert "does not apply to --serve" in runner_error("--model", "x.pte", "--vocab", "v.bin", "--serve",
                                                       "--spec", "chain", "--replay-accept", "0.5")


def test_drafting_flags_need_spec():
    assert "pass --spec chain or --spec tree" in runner_error("--model", "x.pte", "--prompt-ids", "1",
                                                               "--stats-only", "--chain-len", "2")
    assert "--tree expects NUM_ITER/TOPK_PER_ITER/TREE_SIZE" in runner_error(
        "--model", "x.pte", "--prompt-ids", "1", "--stats-only", "--spec", "tree", "--tree", "2/10")
