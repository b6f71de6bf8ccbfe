"""The embedded model's training text: English prose that ships with every CPython.

Source: the docstrings of the standard library's own modules, classes and functions (read with
``ast``, nothing is imported or executed) and the ``pydoc_data.topics`` help texts that ``help()``
shows. Licence: Python Software Foundation License 2.0 (the CPython licence). The text itself is
never committed; it is rebuilt from the installed interpreter, and ``corpus_fingerprint`` records
which interpreter and which bytes, so a different Python version is noticed instead of silently
changing the held-out set.

The split is by document (a docstring or a help topic), decided by a hash of the document's name,
so the held-out text is never seen in training, and both halves are stable across runs.
"""

from __future__ import annotations

import ast
import hashlib
import platform
import sysconfig
from dataclasses import dataclass
from pathlib import Path

HELD_OUT_PERCENT = 5
_SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__",
              "lib2to3", "turtledemo", "ensurepip", "pydoc_data"}
_MIN_CHARS = 80  # one-line docstrings ("Return x.") teach little and dominate by count


@dataclass(frozen=True)
class Document:
    name: str
    text: str

    @property
    def held_out(self) -> bool:
        digest = hashlib.sha256(self.name.encode()).digest()
        return digest[0] * 100 // 256 < HELD_OUT_PERCENT


def _docstrings_of(path: Path, stdlib: Path):
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return
    module = ".".join(path.relative_to(stdlib).with_suffix("").parts)
    nodes = [(module, tree)]
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            nodes.append((f"{module}:{node.name}@{node.lineno}", node))
    for name, node in nodes:
        doc = ast.get_docstring(node, clean=True)
        if doc and len(doc) >= _MIN_CHARS:
            yield Document(name, doc.strip())


def _help_topics():
    # pydoc_data.topics is a plain dict literal: read it with ast rather than importing.
    path = Path(sysconfig.get_paths()["stdlib"]) / "pydoc_data" / "topics.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and isinstance(value, ast.Constant):
                    yield Document(f"pydoc_data.topics:{key.value}", str(value.value).strip())
            break


def stdlib_documents() -> list[Document]:
    """All documents, in a stable order (sorted paths, then source order)."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    docs = list(_help_topics())
    for path in sorted(stdlib.rglob("*.py")):
        if _SKIP_DIRS & set(path.relative_to(stdlib).parts):
            continue
        docs.extend(_docstrings_of(path, stdlib))
    return docs


def split_text(docs: list[Document]) -> tuple[str, str]:
    """(train, held_out) texts; documents are separated by blank lines."""
    train = [d.text for d in docs if not d.held_out]
    held = [d.text for d in docs if d.held_out]
    return "\n\n".join(train) + "\n", "\n\n".join(held) + "\n"


def corpus_fingerprint(train: str, held_out: str) -> dict:
    return {
        "source": "CPython standard library docstrings + pydoc_data topics (PSF License 2.0)",
        "python": platform.python_version(),
        "train_chars": len(train),
        "held_out_chars": len(held_out),
        "train_sha256": hashlib.sha256(train.encode()).hexdigest(),
        "held_out_sha256": hashlib.sha256(held_out.encode()).hexdigest(),
    }


def held_out_text() -> str:
    return split_text(stdlib_documents())[1]
