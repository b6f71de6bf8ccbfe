"""What the host needs to know about a bundle it sends to a device, without loading the program
(an aarch64 bundle does not load on an x86-64 host): its manifest, config and tokenizer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgecpm.checkpoint.locate import resolve_model
from edgecpm.errors import UsageError
from edgecpm.export.pte_manifest import MANIFEST, PROGRAM, manifest_config, read_manifest
from edgecpm.tokenizer.tokenizer import load_tokenizer


@dataclass
class BundleInfo:
    path: Path
    manifest: dict
    config: object          # MiniCPMConfig
    tokenizer: object

    @property
    def max_seq_len(self) -> int:
        return self.manifest["max_seq_len"]

    @property
    def label(self) -> str:
        """How bench rows name the model (as ``PteModel.describe_scheme`` does on the host)."""
        return f"{self.path.name} ({self.manifest['scheme']} .pte ({self.manifest['backend']}))"

    @property
    def size_mib(self) -> float:
        return (self.path / PROGRAM).stat().st_size / 2**20


def bundle_info(model: str) -> BundleInfo:
    path = resolve_model(model)
    if not (path / MANIFEST).is_file():
        raise UsageError(f"{model}: --device runs an exported bundle (a folder with {MANIFEST}); export it first "
                         "with `edgecpm export MODEL -o BUNDLE --target jetson` (or android)")
    manifest = read_manifest(path)
    cfg = manifest_config(path, manifest)
    return BundleInfo(path, manifest, cfg, load_tokenizer(path, cfg.bos_token_id, cfg.eos_token_id))


def check_fits(info: BundleInfo, n_prompt: int, n_gen: int) -> None:
    if n_prompt + n_gen > info.max_seq_len:
        raise UsageError(f"prompt ({n_prompt} tokens) + {n_gen} new tokens exceeds {info.path}'s KV cache "
                         f"({info.max_seq_len}, fixed at export); ask for fewer tokens or re-export with "
                         "--max-seq-len")
