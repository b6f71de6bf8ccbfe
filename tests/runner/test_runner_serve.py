"""edgecpm-runner --serve (runtime_kernels/runner/chat_session.h): one process per conversation.

Each turn must give the eager model's greedy tokens for the whole conversation so far while
prefilling only its own new ids (the KV cache is kept); stop, reset and refused lines must leave
the conversation consistent. --spec turns give the same tokens. Host runner, float tiny bundle
with draft methods (the Android app's runner is the same code: tests/android/test_fake_device.py).
"""

from __future__ import annotations

import subprocess

import pytest
import torch

from edgecpm.checkpoint.loader import load_model
from edgecpm.tokenizer.tokenizer import load_tokenizer
from tests.conftest import TinyBundles
from tests.runner.chat_turns import Conversation, prompt_line
from tests.runner.serve_client import ServeClient
from tests.runner.test_runner import HOST_RUNNER, require

N = 12
FIRST = "Write a function that adds two numbers."
SECOND = "Now multiply them."

pytestmark = pytest.mark.slow  # exports the float-spec tiny bundle (about a minute) when no other test has


@pytest.fixture(scope="module")
def spec_bundle(tiny_bundles):
    return tiny_bundles["float-spec"]


@pytest.fixture(scope="module")
def model(spec_bundle):
    return load_model(spec_bundle[0], dtype=torch.float32, max_seq_len=TinyBundles.MAX_SEQ_LEN)


@pytest.fixture(scope="module")
def tokenizer(spec_bundle):
    return load_tokenizer(spec_bundle[1])


def serve(bundle, *flags) -> ServeClient:
    return ServeClient([str(require(HOST_RUNNER, "kernels")), str(bundle), "--serve", *flags])


def ids_of(tokens: list[dict]) -> list[int]:
    return [t["id"] for t in tokens]


@pytest.mark.parametrize("flags", [("--chat",), ("--chat", "--spec", "chain")], ids=["plain", "spec"])
def test_two_turns_keep_the_cache_and_match_eager(spec_bundle, model, tokenizer, flags):
    client = serve(spec_bundle[1], *flags)
    assert client.ready["max_seq_len"] == TinyBundles.MAX_SEQ_LEN and client.ready["spec"] == ("--spec" in flags)
    conv = Conversation(tokenizer)
    for text in (FIRST, SECOND):
        want = conv.expected(model, text, N)
        new = conv.new_ids(text)
        tokens, done = client.turn(prompt_line(text, N))
        assert done["event"] == "done", done
        assert ids_of(tokens) == done["tokens"] == want
        conv.add_turn(text, want)
        assert done["position"] == len(conv.ids)
        # Plain turns prefill only their new ids; speculative ones re-run the conversation.
        assert done["prompt_tokens"] == (len(conv.ids) - len(want) if "--spec" in flags else len(new))
        assert done["reason"] == ("eos" if want[-1] in tokenizer.eos_ids else "length")
    assert "".join(t["text"] for t in tokens) == tokenizer.decode([i for i in want if i not in tokenizer.eos_ids])
    assert client.close() == 0


def test_stop_reset_and_refusals_leave_the_conversation_consistent(spec_bundle, model, tokenizer):
    client = serve(spec_bundle[1], "--chat")
    conv = Conversation(tokenizer)
    # Prompt and stop in one write: the runner sees the stop at its first token.
    tokens, done = client.turn(prompt_line(FIRST, N), '{"command": "stop"}')
    assert (done["event"], done["reason"], len(tokens)) == ("done", "stop", 1)
    assert tokens[0]["id"] == conv.expected(model, FIRST, 1)[0]
    conv.add_turn(FIRST, ids_of(tokens))
    # Refused lines change nothing.
    for bad, says in [("not json", "not JSON"), ('{"prompt": 3}', '"prompt" (a string)'),
                      ('{"prompt": "x", "top_p": 0}', '"top_p" must be in (0, 1]'),
                      ('{"prompt": "x", "max_new_tokens": 0}', '"max_new_tokens" must be an integer in 1..'),
                      ('{"prompt": "x", "colour": 1}', 'unknown member "colour"'),
                      ('{"command": "go"}', '"command" must be "stop" or "reset"'),
                      (prompt_line("word " * 120, 1), "the conversation is full: it holds")]:
        tokens, event = client.turn(bad)
        assert tokens == [] and event["event"] == "error" and says in event["message"], (bad, event)
    # The stopped answer is closed with <|im_end|> and the conversation goes on.
    want = conv.expected(model, SECOND, N)
    tokens, done = client.turn(prompt_line(SECOND, N))
    assert ids_of(tokens) == want and done["prompt_tokens"] == len(conv.new_ids(SECOND))
    # After a reset the first turn is a first turn again.
    client.send('{"command": "reset"}')
    tokens, done = client.turn(prompt_line(FIRST, N))
    assert ids_of(tokens) == Conversation(tokenizer).expected(model, FIRST, N)
    assert done["position"] == len(Conversation(tokenizer).new_ids(FIRST)) + N
    # More tokens than the cache has left: the answer runs until the context is full.
    tokens, done = client.turn(prompt_line(SECOND, 1000))
    assert done["event"] == "done" and (done["position"], done["reason"]) == (TinyBundles.MAX_SEQ_LEN, "length"), done
    tokens, event = client.turn(prompt_line("more", 1))
    assert event["event"] == "error" and "the conversation is full" in event["message"]
    assert client.close() == 0


def test_serve_refuses_a_prompt_on_the_command_line(spec_bundle):
    res = subprocess.run([str(require(HOST_RUNNER, "kernels")), str(spec_bundle[1]), "--serve", "--prompt", "hi"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and res.stdout == ""
    assert res.stderr.startswith("edgecpm-runner: error: --serve reads each prompt and its settings from stdin")
    assert res.stderr.count("\n") == 1
