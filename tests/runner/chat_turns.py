"""The conversation a serving runner holds (runtime_kernels/runner/chat_session.h), rebuilt in
Python from its rules, and the eager model's greedy answer to it: the reference the --serve tests
(host runner, and the Android app's runner on a fake device) compare with."""

from __future__ import annotations

import json

from tests.conftest import greedy_reference

IM_END = "<|im_end|>"


def chatml(user_text: str) -> str:
    return f"<|im_start|>user\n{user_text}<|im_end|>\n<|im_start|>assistant\n"


class Conversation:
    """ids: everything fed or to be fed, in order; answers are kept as generated ids."""

    def __init__(self, tokenizer, chat: bool = True):
        self.tokenizer, self.chat, self.ids, self.turns = tokenizer, chat, [], 0

    def new_ids(self, user_text: str) -> list[int]:
        """The ids a turn adds: BOS first in a new conversation, else the previous answer's last
        token (already in self.ids) is what the runner feeds first, so it is counted here."""
        text = chatml(user_text) if self.chat else user_text
        if not self.ids:
            return [self.tokenizer.bos_id, *self.tokenizer.encode(text)]
        last = self.ids[-1]
        if self.chat:
            text = ("\n" if self.tokenizer.decode([last]) == IM_END else IM_END + "\n") + text
        return [last, *self.tokenizer.encode(text)]

    def add_turn(self, user_text: str, answer: list[int]) -> None:
        self.ids += self.new_ids(user_text)[0 if not self.ids else 1:] + answer
        self.turns += 1

    def expected(self, model, user_text: str, n: int) -> list[int]:
        """Eager greedy tokens for the next turn (with the conftest's top-2 margin check)."""
        new = self.new_ids(user_text)
        context = (self.ids + new[1:]) if self.ids else new
        return greedy_reference(model, context, n)


def prompt_line(text: str, n: int, **extra) -> str:
    return json.dumps({"prompt": text, "max_new_tokens": n, **extra})
