"""The models and draft heads that ship inside the package (``edgecpm/assets/``), in one registry:
what a MODEL or DRAFT argument may name instead of a path, and which preset's tokenizer ships."""

from __future__ import annotations

from pathlib import Path

ASSETS = Path(__file__).resolve().parent / "assets"

MODELS = {"tiny": ASSETS / "tiny", "tiny-ternary": ASSETS / "tiny-ternary"}
DRAFTS = {"tiny-draft": ASSETS / "tiny-draft"}
# Presets whose tokenizer ships with edgecpm (`init --random` copies it); the MiniCPM4 ones need
# the release's files.
PRESET_TOKENIZERS = {"tiny": MODELS["tiny"]}
