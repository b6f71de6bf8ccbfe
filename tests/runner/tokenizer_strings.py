"""The strings the runner's C++ tokenizers are checked on: a fixed list of edge cases plus a few
hundred made by a seeded generator from fragments of the kinds that split differently (scripts,
digits, whitespace runs, code, contractions, special tokens, emoji sequences)."""

from __future__ import annotations

import random

FRAGMENTS = {
    "english": ["Hello", "world", "the", "Raise", "ValueError", "if", "The quick brown fox", "naïve", "café",
                "Zürich", "déjà vu", "ﬁne", "Ångström", "e\u0301"],
    "cjk": ["你好", "世界", "中文和English混合", "数字", "こんにちは", "カタカナ", "한국어", "漢字かな交じり", "，", "。",
            "。。。", "！", "《书》", "【注】", "１２３", "０"],
    "other_scripts": ["Привет", "мир", "Ελληνικά", "مرحبا", "שלום", "हिन्दी", "ไทย", "ქართული", "Հայերեն"],
    "emoji": ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🦄", "❤️", "🇫🇷", "✨", "🤖"],
    "digits": ["0", "7", "42", "365", "2025", "3.14159", "1,000,000", "٣٤٥", "१२३", "½", "²", "Ⅻ", "-17", "1e-9",
               "0x1F"],
    "space": [" ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", " \n ", "\u00a0", "\u3000", "\u2028", " \t\n",
              "\u2003", "\u200b", "\x0b", "\x0c"],
    "code": ["def f(x):", "    return x ** 2", "# comment", "if (a && b) { return; }", "x = [1, 2, 3]",
             "print('hi')", "a->b", "i++", "<div class=\"x\">", "</div>", "```python", "SELECT * FROM t;", "λx.x",
             "foo_bar_baz", "CamelCase", "$PATH", "@decorator", "#include <vector>", "...", "---", "<!-- c -->"],
    "contractions": ["it's", "we're", "they've", "I'm", "you'll", "he'd", "don't", "'s", "'t", "'re", "'ve", "'m",
                     "'ll", "'d", "''", "'S", "'LL", "rock'n'roll"],
    "special": ["<s>", "</s>", "<unk>", "<pad>", "<|im_start|>", "<|im_end|>", "<|tool_call|>", "<|execute_start|>",
                "<|execute_end|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|im_", "im_end|>",
                "<|im_start|><|im_end|>", "<SEP>", "<CLS>", "<img>", "<reserved_12>", "<0x41>", "▁", "▁▁x"],
    "punct": ["!", "?", ".", ",", ";", ":", "—", "–", "…", "“quoted”", "«»", "(", ")", "[", "]", "{", "}", "/", "\\",
              "|", "~", "^", "%", "&", "*", "+", "=", "-", "_", "\"", "'", "`"],
    "controls": ["\x00", "\x01", "\x1b[0m", "\x7f", "\u0085", "\ufeff", "\ufffd"],
}

EDGE_CASES = [
    "", " ", "  ", "\n", "\t", "a", "0", "00", "123456789", " 123", "x 1 2 3 y", "  leading", "trailing  ",
    "   both   ", "a  b   c    d", "\n\n\n", " \n", "\n ", "line1\nline2\r\nline3", "tab\tseparated\tvalues",
    "<s>", "</s>", "<s>hello</s>", "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>", "<|im_end|><|im_end|>", "x<|im_start|>y", "<|im_start", "|im_start|>", "Raise ValueError if the",
    "a" * 300, " " * 40, "ab" * 100, "😀" * 10, "中" * 50, "1" * 30, "'s's's", "'''", "' s",
]


def generated_strings(count: int = 320, seed: int = 15) -> list[str]:
    """``count`` strings of 1-12 fragments, each followed by a space, nothing or a random separator."""
    rng = random.Random(seed)
    kinds = sorted(FRAGMENTS)
    separators = ["", " ", " ", " ", "  ", "\n", "\t", " \n", "\u3000", ""]
    out = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 12)):
            parts.append(rng.choice(FRAGMENTS[rng.choice(kinds)]))
            parts.append(rng.choice(separators))
        out.append("".join(parts))
    return out


def all_strings() -> list[str]:
    return EDGE_CASES + generated_strings()
