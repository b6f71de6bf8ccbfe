"""Reading a bundle's ``manifest.json``: every field a program run depends on, checked before use.

A manifest is input like any other (edited by hand, truncated, written by another version): a
missing or mistyped field is one line naming the manifest and the field, never a KeyError later.
The ``sha256`` map is what makes the bundle's files trustworthy as a set, so an empty one, or one
without the program, is refused rather than verifying nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from edgecpm.checksum import file_sha256
from edgecpm.errors import CheckpointError

MANIFEST = "manifest.json"
PROGRAM = "model.pte"
LIBRARY_NAME = "libedgecpm_kernels.so"   # the kernel library a bundle carries for its device
MANIFEST_VERSION = 1

# field -> (type it must have, what it is, for the message)
_REQUIRED = {
    "config": (dict, "the model's config"),
    "max_seq_len": (int, "the KV cache length"),
    "operators": (list, "the program's operators"),
    "arch": (str, "the target CPU architecture"),
    "target": (str, "the target recipe"),
    "scheme": (str, "the weight scheme"),
    "backend": (str, "the ExecuTorch backend"),
    "sha256": (dict, "checksums of the bundle's files"),
}
_REEXPORT = "re-run `edgecpm export`"


def read_manifest(bundle: Path, verify: bool = True) -> dict:
    """The manifest of ``bundle``, its fields checked; with ``verify``, every listed file's sha256."""
    path = bundle / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path}: unreadable manifest ({e}); {_REEXPORT}") from None
    if not isinstance(manifest, dict):
        raise CheckpointError(f"{path}: not a JSON object; {_REEXPORT}")
    version = manifest.get("manifest_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise CheckpointError(f"{path}: manifest_version {version!r} is not a number; {_REEXPORT}")
    if version > MANIFEST_VERSION:
        raise CheckpointError(f"{path}: written by a newer edgecpm; upgrade edgecpm or re-export")
    for key, (kind, what) in _REQUIRED.items():
        value = manifest.get(key)
        # bool is an int in Python; a max_seq_len of true is still a broken manifest
        if not isinstance(value, kind) or isinstance(value, bool):
            state = "has no" if key not in manifest else f"has a {type(value).__name__} for"
            raise CheckpointError(f"{path}: {state} {key!r} ({what}); {_REEXPORT}")
    _check_numbers(path, manifest)
    _check_files(path, manifest)
    if verify:
        for name, want in manifest["sha256"].items():
            f = bundle / name
            if not f.is_file() or file_sha256(f) != want:
                raise CheckpointError(f"{f}: missing or its sha256 does not match {MANIFEST} "
                                      f"(truncated or modified); {_REEXPORT}")
    return manifest


def _check_numbers(path: Path, manifest: dict) -> None:
    max_seq_len = manifest["max_seq_len"]
    if max_seq_len < 1:
        raise CheckpointError(f"{path}: max_seq_len {max_seq_len} must be at least 1; {_REEXPORT}")
    chunk = manifest.get("prefill_chunk", max_seq_len)
    if not isinstance(chunk, int) or isinstance(chunk, bool) or not 1 <= chunk <= max_seq_len:
        raise CheckpointError(f"{path}: prefill_chunk {chunk!r} must be a number from 1 to max_seq_len "
                              f"({max_seq_len}); {_REEXPORT}")
    if not all(isinstance(op, str) for op in manifest["operators"]):
        raise CheckpointError(f"{path}: 'operators' must list operator names; {_REEXPORT}")


def _check_files(path: Path, manifest: dict) -> None:
    files = manifest["sha256"]
    if not files:
        raise CheckpointError(f"{path}: its sha256 map is empty, so nothing in the bundle can be "
                              f"verified; {_REEXPORT}")
    if PROGRAM not in files:
        raise CheckpointError(f"{path}: its sha256 map does not list {PROGRAM}; {_REEXPORT}")
    for name, digest in files.items():
        # Names are files beside the manifest: a path would check (and trust) files elsewhere.
        if not name or Path(name).name != name or name in (".", ".."):
            raise CheckpointError(f"{path}: sha256 entry {name!r} is not a file name in the bundle; {_REEXPORT}")
        if not isinstance(digest, str) or len(digest) != 64 or digest.strip("0123456789abcdef"):
            raise CheckpointError(f"{path}: sha256 of {name} is {digest!r}, not a sha256 hex digest; {_REEXPORT}")


def manifest_config(bundle: Path, manifest: dict):
    """The model config the manifest carries, as a MiniCPMConfig; a config that does not parse is
    one line (the config parser trusts types a config.json from Hugging Face has)."""
    from edgecpm.errors import EdgecpmError
    from edgecpm.model.config import MiniCPMConfig

    path = bundle / MANIFEST
    try:
        return MiniCPMConfig.from_hf_dict(manifest["config"], f"{path} (config)")
    except EdgecpmError:
        raise
    except (TypeError, ValueError, AttributeError, KeyError, ZeroDivisionError) as e:
        raise CheckpointError(f"{path}: its config is not a valid MiniCPM4 config ({type(e).__name__}: {e}); "
                              f"{_REEXPORT}") from None


def program_features(manifest: dict) -> dict:
    """What a program carries, in one place for users and tools: the weight scheme's kind, InfLLM-v2
    sparse attention (read by the program's edgecpm::infllm ops), the draft head and its FR-Spec
    subset."""
    spec = manifest.get("speculative") or {}
    ids = spec.get("draft_vocab_ids")
    return {"weights": manifest["scheme"].split()[0],
            "sparse_attention": any(op.startswith("edgecpm::infllm") for op in manifest["operators"]),
            "draft": spec.get("draft"),
            "frspec_ids": None if ids is None else len(ids)}
