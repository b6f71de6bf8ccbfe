"""Tokenizers: Hugging Face ``tokenizer.json`` or SentencePiece ``tokenizer.model``, one interface.

MiniCPM4 ships a SentencePiece BPE model (73440 pieces) plus 8 added tokens (``<|im_end|>`` =
73440 …) listed in ``added_tokens.json`` / ``tokenizer_config.json``. SentencePiece knows nothing
of the added tokens, so text is split on them first and each piece encoded on its own, as HF's
``LlamaTokenizer`` (legacy mode, which MiniCPM4's config selects) does.

The ChatML template has no BOS; ``chat()`` prepends it (MINICPM4.md §7).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from edgecpm.errors import TokenizerError

# How to give a checkpoint its tokenizer: said by ``init`` when it writes one without, and by
# ``load_tokenizer`` when it then finds none.
HOW_TO_ADD = ("copy the model's tokenizer files into this directory (MiniCPM4: tokenizer.model, "
              "tokenizer_config.json, added_tokens.json), or write it with `edgecpm init --tokenizer DIR`")


class Tokenizer:
    bos_id: int
    eos_ids: list[int]
    vocab_size: int

    def encode(self, text: str, bos: bool = False) -> list[int]:
        ids = self._encode(text)
        return [self.bos_id] + ids if bos else ids

    def _encode(self, text: str) -> list[int]:
        raise NotImplementedError

    def decode(self, ids: list[int]) -> str:
        raise NotImplementedError

    def chat(self, messages: list[dict[str, str]], add_generation_prompt: bool = True) -> list[int]:
        """ChatML: ``<|im_start|>{role}\\n{content}<|im_end|>\\n`` …, BOS first."""
        text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        if add_generation_prompt:
            text += "<|im_start|>assistant\n"
        return self.encode(text, bos=True)


class HFTokenizer(Tokenizer):
    def __init__(self, path: Path, bos_id: int, eos_ids: list[int]):
        from tokenizers import Tokenizer as _Tok

        try:
            self._tok = _Tok.from_file(str(path))
        except Exception as e:
            raise TokenizerError(f"{path}: not a readable tokenizer.json ({e})") from None
        self.bos_id, self.eos_ids = bos_id, eos_ids
        self.vocab_size = self._tok.get_vocab_size(with_added_tokens=True)

    def _encode(self, text):
        return self._tok.encode(text, add_special_tokens=False).ids

    def decode(self, ids):
        return self._tok.decode(list(ids), skip_special_tokens=False)


class SentencePieceTokenizer(Tokenizer):
    def __init__(self, path: Path, added: dict[str, int], bos_id: int, eos_ids: list[int]):
        import sentencepiece as spm

        self._sp = spm.SentencePieceProcessor()
        try:
            self._sp.Load(str(path))
        except (OSError, RuntimeError) as e:
            raise TokenizerError(f"{path}: not a readable SentencePiece model ({e})") from None
        self.bos_id, self.eos_ids = bos_id, eos_ids
        self._added = dict(added)
        self._added_by_id = {i: t for t, i in added.items()}
        n = self._sp.GetPieceSize()
        self.vocab_size = max([n - 1, *added.values()]) + 1
        # Longest first, so a token that contains another is matched whole.
        alternatives = sorted(added, key=len, reverse=True)
        self._split = re.compile("(" + "|".join(map(re.escape, alternatives)) + ")") if added else None

    def _encode(self, text):
        if self._split is None:
            return self._sp.EncodeAsIds(text)
        ids: list[int] = []
        for part in self._split.split(text):
            if part in self._added:
                ids.append(self._added[part])
            elif part:
                ids.extend(self._sp.EncodeAsIds(part))
        return ids

    def decode(self, ids):
        out, run = [], []
        for i in ids:
            if i in self._added_by_id:
                out.append(self._sp.DecodeIds(run))
                out.append(self._added_by_id[i])
                run = []
            else:
                run.append(i)
        out.append(self._sp.DecodeIds(run))
        return "".join(out)


def _added_tokens(model_dir: Path) -> dict[str, int]:
    added: dict[str, int] = {}
    cfg_path = model_dir / "tokenizer_config.json"
    if cfg_path.is_file():
        try:
            decoder = json.loads(cfg_path.read_text(encoding="utf-8")).get("added_tokens_decoder", {})
            for i, info in decoder.items():
                if int(i) > 2:  # <unk>, <s>, </s> are SentencePiece's own pieces
                    added[info["content"]] = int(i)
        except (ValueError, AttributeError, KeyError, TypeError) as e:  # JSON and UTF-8 errors are ValueErrors
            raise TokenizerError(f"{cfg_path}: not a tokenizer config with added_tokens_decoder ({e})") from None
    path = model_dir / "added_tokens.json"
    if path.is_file():
        try:
            added.update({t: int(i) for t, i in json.loads(path.read_text(encoding="utf-8")).items()})
        except (json.JSONDecodeError, AttributeError, ValueError) as e:
            raise TokenizerError(f"{path}: not a JSON object of token → id ({e})") from None
    return added


def load_tokenizer(model_dir: str | Path, bos_id: int = 1, eos_ids: list[int] | None = None) -> Tokenizer:
    """``tokenizer.json`` if present, else ``tokenizer.model`` (+ added tokens)."""
    model_dir = Path(model_dir)
    eos_ids = list(eos_ids or [2])
    if (model_dir / "tokenizer.json").is_file():
        return HFTokenizer(model_dir / "tokenizer.json", bos_id, eos_ids)
    if (model_dir / "tokenizer.model").is_file():
        return SentencePieceTokenizer(model_dir / "tokenizer.model", _added_tokens(model_dir), bos_id, eos_ids)
    raise TokenizerError(f"{model_dir}: no tokenizer.json or tokenizer.model; {HOW_TO_ADD}")
