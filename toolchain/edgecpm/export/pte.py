"""A float MiniCPM4 checkpoint as an ExecuTorch program (``.pte``), and running one from Python.

The program has one ``forward(tokens [1, T], input_pos [T]) -> logits [1, T, vocab]`` method with a
dynamic T (prefill a chunk, or decode one token), the KV cache as mutable buffers carried between
calls, XNNPACK for the linears, and the metadata methods ExecuTorch's LLM runner reads
(``get_bos_id``, ``get_eos_ids``, ``get_max_seq_len``, ``get_max_context_len``, ``get_vocab_size``,
``use_kv_cache``). Beside it: the tokenizer and ``manifest.json`` (model, scheme, target, the
program's operators, the kernel library it needs, sha256 of every file).

Not yet: quantized checkpoints. Their ``edgecpm::`` ops lower fine, but the ExecuTorch runtime can
only run them with our C++ kernels, which are issue #4's next step; export refuses them rather than
writing a program nothing can load.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch

from edgecpm.atomic import atomic_dir
from edgecpm.checksum import file_sha256
from edgecpm.checkpoint.quantized import TOKENIZER_FILES
from edgecpm.errors import CheckpointError, EdgecpmError
from edgecpm.quant.config import read_quant_config

MANIFEST = "manifest.json"
PROGRAM = "model.pte"
MANIFEST_VERSION = 1
TARGETS = ("host",)


class _Forward(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, tokens, input_pos):
        return self.model(tokens, input_pos)


def export_pte(model_dir: str | Path, out_dir: str | Path, target: str = "host", max_seq_len: int = 512,
               overwrite: bool = False, progress=None) -> Path:
    from edgecpm.torch_env import require_executorch

    require_executorch()
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    from edgecpm.checkpoint.loader import load_model

    model_dir = Path(model_dir)
    if target not in TARGETS:
        raise EdgecpmError(f"--target {target}: only {', '.join(TARGETS)} is available yet "
                           "(jetson / android recipes come with the aarch64 kernels, issue #4)")
    if read_quant_config(model_dir) is not None:
        raise EdgecpmError(f"{model_dir}: is quantized; a .pte of it needs edgecpm's C++ kernels for the "
                           "edgecpm:: ops, which are not built yet (issue #4). Export the float checkpoint, "
                           "or use --format gguf for llama.cpp")
    say = progress or (lambda _msg: None)
    model = load_model(model_dir, dtype=torch.float32, max_seq_len=max_seq_len)
    cfg = model.config
    seq = torch.export.Dim("seq", min=1, max=max_seq_len)
    say("torch.export")
    ep = torch.export.export(_Forward(model), (torch.tensor([[cfg.bos_token_id, 2]]), torch.arange(2)),
                             dynamic_shapes=({1: seq}, {0: seq}), strict=False)
    say("lowering to ExecuTorch (XNNPACK)")
    metadata = {"get_bos_id": cfg.bos_token_id, "get_eos_ids": list(cfg.eos_token_id),
                "get_max_seq_len": max_seq_len, "get_max_context_len": max_seq_len,
                "get_vocab_size": cfg.vocab_size, "use_kv_cache": True}
    edge = to_edge_transform_and_lower({"forward": ep}, partitioner=[XnnpackPartitioner()],
                                       constant_methods=metadata)
    program = edge.to_executorch()
    ops = sorted({str(op.name) + (f".{op.overload}" if op.overload else "")
                  for plan in program.executorch_program.execution_plan for op in plan.operators})
    say("writing")
    with atomic_dir(out_dir, overwrite=overwrite) as tmp:
        (tmp / PROGRAM).write_bytes(program.buffer)
        for name in TOKENIZER_FILES:
            if (model_dir / name).is_file():
                shutil.copy(model_dir / name, tmp / name)
        files = {p.name: file_sha256(p) for p in sorted(tmp.iterdir())}
        manifest = {"manifest_version": MANIFEST_VERSION, "model": model_dir.name, "scheme": "fp32",
                    "target": target, "backend": "xnnpack", "max_seq_len": max_seq_len,
                    "config": cfg.to_hf_dict(), "methods": ["forward", *metadata], "operators": ops,
                    "kernel_library": None, "sha256": files}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return Path(out_dir)


class PteModel:
    """An exported program behind the eager model's call interface, so ``generate`` runs it."""

    def __init__(self, out_dir: str | Path, verify: bool = True):
        from edgecpm.model.config import MiniCPMConfig
        from edgecpm.torch_env import require_executorch

        require_executorch()
        self.dir = Path(out_dir)
        path = self.dir / MANIFEST
        try:
            self.manifest = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise CheckpointError(f"{path}: unreadable manifest ({e}); re-run `edgecpm export`") from None
        if self.manifest.get("manifest_version", 0) > MANIFEST_VERSION:
            raise CheckpointError(f"{path}: written by a newer edgecpm; upgrade edgecpm or re-export")
        if verify:
            for name, want in self.manifest["sha256"].items():
                f = self.dir / name
                if not f.is_file() or file_sha256(f) != want:
                    raise CheckpointError(f"{f}: missing or its sha256 does not match {MANIFEST} "
                                          "(truncated or modified); re-run `edgecpm export`")
        self.config = MiniCPMConfig.from_hf_dict(self.manifest["config"], str(path))
        self.max_seq_len = self.manifest["max_seq_len"]
        self._load()

    def _load(self):
        from executorch.runtime import Runtime

        self._method = Runtime.get().load_program(str(self.dir / PROGRAM)).load_method("forward")

    def reset_caches(self):
        # Stale cache slots are masked by position, so reuse is safe; nothing to clear.
        pass

    def __call__(self, tokens: torch.Tensor, input_pos: torch.Tensor | None = None) -> torch.Tensor:
        if input_pos is None:
            input_pos = torch.arange(tokens.shape[1])
        return self._method.execute([tokens, input_pos])[0]
