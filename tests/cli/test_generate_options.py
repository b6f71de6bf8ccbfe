"""``edgecpm generate``: every number within its bounds, options that cannot apply refused, each
with one line naming the option; the chat reply printed without the template around it."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from edgecpm.cli.app import app


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def one_error_line(r, message):
    assert r.exit_code == 2, r.output
    assert r.output.count("\n") == 1 and r.output.startswith("error: "), r.output
    assert message in r.output, r.output


@pytest.mark.parametrize("args, message", [
    (["-n", 0], "-n/--max-new-tokens 0: must be at least 1"),
    (["-n", -1], "-n/--max-new-tokens -1: must be at least 1"),
    (["-n", 2000], "need 2002 positions; the model has 1024 (max_position_embeddings)"),
    (["-n", 600, "--max-seq-len", 300], "need 602 positions; the KV cache has 300: pass --max-seq-len 602"),
    (["--max-seq-len", 100000000], "--max-seq-len 100000000: the model has 1024 positions"),
    (["--max-seq-len", 0], "--max-seq-len 0: must be at least 1"),
    (["--temperature", -1], "--temperature -1.0: must be at least 0"),
    (["--temperature", "nan"], "--temperature nan: must be a finite number"),
    (["--top-k", 5], "--top-k: only when sampling (--temperature > 0)"),
    (["--top-p", 0.5], "--top-p: only when sampling (--temperature > 0)"),
    (["--temperature", 0.7, "--top-k", -3], "--top-k -3: must be at least 0"),
    (["--temperature", 0.7, "--top-k", 100000], "--top-k 100000: must be at most 8192 (the vocabulary"),
    (["--temperature", 0.7, "--top-p", 0], "--top-p 0.0: must be above 0"),
    (["--temperature", 0.7, "--top-p", 1.5], "--top-p 1.5: must be at most 1.0"),
    (["--seed", -1], "--seed -1: must be at least 0"),
    (["--seed", 2**64], "must be at most 9223372036854775807"),
    (["--dtype", "fp8"], "--dtype 'fp8': choose fp32, bf16 or fp16"),
    (["--chain-len", 0], "--chain-len: only with --spec DRAFT"),
    (["--chain"], "--chain: only with --spec DRAFT"),
    (["--frspec", "fr.safetensors"], "--frspec: only with --spec DRAFT"),
    (["--spec", "tiny-draft", "--chain", "--chain-len", 0], "--chain-len 0: must be at least 1"),
    (["--spec", "tiny-draft", "--chain", "--chain-len", 64], "--chain-len 64: must be at most 63"),
    (["--spec", "tiny-draft", "--chain-len", 2], "--chain-len: only for --chain drafting"),
    (["--spec", "tiny-draft", "--chain", "--tree-size", 4], "--tree-size: only for --tree drafting"),
    (["--spec", "tiny-draft", "--tree-size", 1], "--tree-size 1: must be at least 2"),
    (["--spec", "tiny-draft", "--topk-per-iter", 0], "--topk-per-iter 0: must be at least 1"),
    (["--spec", "tiny-draft", "--num-iter", 17], "--num-iter 17: must be at most 16"),
    (["--spec", "tiny-draft", "--num-iter", 0, "--topk-per-iter", 3, "--tree-size", 10],
     "--tree-size 10: 0 rounds of 3 children score only 3 nodes; pass --tree-size 4 or less"),
    (["--spec", "tiny-draft", "--frspec", "/nonexistent.safetensors"],
     "--frspec /nonexistent.safetensors: no such file"),
    (["--spec", "tiny-draft", "-n", 1010], "+ 21 draft slots need 1033 positions"),
])
def test_refused_with_one_line(args, message):
    one_error_line(invoke("generate", "tiny", "-p", "Hello", *args), message)


def test_a_prompt_that_was_not_utf8():
    # A non-UTF-8 argv byte reaches Python as a lone surrogate (surrogateescape): 0xff -> U+DCFF.
    one_error_line(invoke("generate", "tiny", "-p", "ab\udcffcd", "-n", 2),
                   "-p/--prompt: not UTF-8 text (byte 0xff at offset 2)")


def test_the_cache_estimate_is_checked_before_allocating(monkeypatch):
    import edgecpm.cli.seq_len as seq_len

    monkeypatch.setattr(seq_len, "available_memory", lambda: 2**20)
    one_error_line(invoke("generate", "tiny", "-p", "Hello", "--max-seq-len", 1024),
                   "--max-seq-len 1024: the KV cache for 1024 positions needs 4.5 MiB; "
                   "this machine has 1.0 MiB available")


def test_kv_cache_estimate_at_a_real_shape():
    from edgecpm.cli.seq_len import kv_cache_bytes
    from edgecpm.model.presets import preset

    cfg = preset("minicpm4-8b")  # 32 layers x 2 (k, v) x 2 kv heads x 128 dims x bf16, + rope tables
    assert kv_cache_bytes(cfg, 100_000_000, 2) == 100_000_000 * (32 * 2 * 2 * 128 * 2 + 2 * 128 * 4 + 8)


def test_sampling_options_apply_when_sampling():
    r = invoke("generate", "tiny", "-p", "Return the", "-n", 4, "--temperature", 0.8, "--top-k", 20,
               "--top-p", 0.9, "--seed", 3)
    assert r.exit_code == 0, r.output
    assert r.output.startswith("Return the")


def test_chat_prints_the_reply_alone():
    r = invoke("generate", "tiny", "-p", "What is a list?", "-n", 12, "--chat")
    assert r.exit_code == 0, r.output
    assert "<|im_start|>" not in r.output and "<|im_end|>" not in r.output
    assert not r.output.startswith("What is a list?")  # not the prompt glued to the reply
    assert r.output.strip()


def test_library_refuses_no_tokens():
    import torch

    from edgecpm.generate import generate
    from edgecpm.runtime.sampling import SamplingConfig

    with pytest.raises(ValueError, match="max_new_tokens must be at least 1"):
        generate(torch.nn.Identity(), [1, 2], 0)
    with pytest.raises(ValueError, match="top_k must be >= 0"):
        SamplingConfig(top_k=-3)
