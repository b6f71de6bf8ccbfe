"""The tokenizer files a bundle carries, made to give ExecuTorch's LLM runner the model's BOS.

ExecuTorch's ``TextLLMRunner`` encodes a prompt with its own C++ tokenizer, asking for
``GenerationConfig.num_bos`` BOS tokens. Its Hugging Face tokenizer adds them only through the
``post_processor`` of ``tokenizer.json`` (a ``TemplateProcessing`` that puts the BOS first, as
Llama tokenizers have); a tokenizer.json with none, like the tiny models', gets no BOS at all and
the runner's text differs from ``edgecpm generate``, which always starts with the config's BOS.
So the bundle's copy gets that template when it has no post-processor. edgecpm's own tokenizer
encodes without special tokens and adds the BOS itself, so it reads either file the same.
SentencePiece files (``tokenizer.model``) carry their BOS id already and are copied as they are.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from edgecpm.checkpoint.quantized import TOKENIZER_FILES
from edgecpm.errors import TokenizerError

HF_TOKENIZER = "tokenizer.json"


def copy_tokenizer_files(model_dir: Path, dest: Path, bos_id: int) -> None:
    for name in TOKENIZER_FILES:
        if not (model_dir / name).is_file():
            continue
        edited = _with_bos_template(model_dir / name, bos_id) if name == HF_TOKENIZER else None
        if edited is None:
            shutil.copy(model_dir / name, dest / name)
        else:
            (dest / name).write_text(edited, encoding="utf-8")


def bos_template(token: str, bos_id: int) -> dict:
    """A ``TemplateProcessing`` post-processor: ``token`` (id ``bos_id``) before each sequence."""
    bos = {"SpecialToken": {"id": token, "type_id": 0}}
    return {"type": "TemplateProcessing",
            "single": [bos, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [bos, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": token, "type_id": 1}},
                     {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {token: {"id": token, "ids": [bos_id], "tokens": [token]}}}


def _with_bos_template(path: Path, bos_id: int) -> str | None:
    """The text of ``path`` with the BOS template added, or None to copy it unchanged."""
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TokenizerError(f"{path}: not a UTF-8 JSON tokenizer ({e}); fix or replace the file") from None
    if not isinstance(spec, dict) or spec.get("post_processor") is not None:
        return None  # a post-processor of its own (or not a tokenizer we can read): kept as it is
    token = _token_text(spec, bos_id)
    if token is None:
        return None
    spec["post_processor"] = bos_template(token, bos_id)
    return json.dumps(spec, ensure_ascii=False)


def _token_text(spec: dict, token_id: int) -> str | None:
    for added in spec.get("added_tokens") or []:
        if isinstance(added, dict) and added.get("id") == token_id and isinstance(added.get("content"), str):
            return added["content"]
    vocab = (spec.get("model") or {}).get("vocab")
    if isinstance(vocab, dict):
        return next((piece for piece, i in vocab.items() if i == token_id), None)
    return None
