"""A MiniCPM4 checkpoint as an ExecuTorch program (``.pte``) in a bundle directory.

The program has ``forward(tokens [1, T], input_pos [T]) -> logits [1, T, vocab]`` with a dynamic T
up to ``PREFILL_CHUNK`` (prefill a chunk, or decode one token), ``forward_last`` (the same with the
last row's logits only, for generation), the KV cache as mutable buffers carried between calls and
shared by both, and the metadata methods ExecuTorch's LLM runner reads (``get_bos_id``,
``get_eos_ids``, ``get_max_seq_len``, ``get_max_context_len``, ``get_vocab_size``,
``use_kv_cache``, ``enable_dynamic_shape``, ``get_n_bos``, ``get_n_eos``). Beside it: the tokenizer
(``bundle_tokenizer.py``), ``vocab.bin`` (token bytes for the C++ runner),
``manifest.json`` (model, scheme, target, the program's operators, the kernel library it needs,
sha256 of every file) and the target's kernel library. Running a bundle is ``edgecpm.runtime.pte``.

Every program calls ``edgecpm::`` ops (``runtime_kernels/``): attention over the KV cache, the
norms and gating, and for quantized checkpoints the packed linears, whose tensors stay program
constants; XNNPACK takes only float matmuls. The kernel library is copied into the bundle, so the
directory is everything a device needs; on this machine a program runs on this installation's
build instead (``edgecpm.runtime.kernel_library.choose_library``). Targets are recipes in ``export/targets/``
(``targets.py``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch

from edgecpm.atomic import atomic_dir, check_output_dir
from edgecpm.checksum import file_sha256
from edgecpm.errors import ConfigError, KernelLibraryError
from edgecpm.export.bundle_tokenizer import copy_tokenizer_files
from edgecpm.export.draft_vocab_bin import write_draft_vocab_bin
from edgecpm.export.pte_manifest import LIBRARY_NAME, MANIFEST, MANIFEST_VERSION, PROGRAM, program_features
from edgecpm.export.targets import Target, load_target
from edgecpm.export.vocab_bin import write_vocab_bin
from edgecpm.model.footprint import describe_scheme, weight_bytes
from edgecpm.model.minicpm import fuse_projections

VOCAB_BIN = "vocab.bin"
DRAFT_VOCAB_BIN = "draft_vocab.bin"   # FR-Spec ids for the C++ runner's --draft-vocab (draft_vocab_bin.py)
# Tokens per forward call at most. ExecuTorch plans activation memory for the largest call (the
# logits alone are chunk x vocab floats: 37 MB at 128 x 73448, 1.2 GB at 4096), and 128 rows
# already make a prefill GEMM reuse each weight block enough. Longer prompts go in chunks.
PREFILL_CHUNK = 128


class _Forward(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, tokens, input_pos):
        return self.model(tokens, input_pos)


class _ForwardLast(_Forward):
    """``forward`` with the logits of the last token only, [1, 1, vocab]: all that generation
    reads after a prefill chunk. The LM head (a fifth of a 0.5B model's bytes) then runs on one
    row instead of T; ``forward`` keeps every row for scoring (``edgecpm eval``)."""

    def forward(self, tokens, input_pos):
        return self.model.logits(self.model.hidden_states(tokens, input_pos)[:, -1:])


def lower_model(model, max_seq_len: int, say=lambda _msg: None, max_chunk: int | None = None,
                extra_methods: dict | None = None, last_logits_method: bool = False):
    """An in-memory model (float, edgecpm-quantized, or torchao-quantized) → (ExecuTorch program
    manager, its metadata methods). The model must have caches for ``max_seq_len``.

    ``max_chunk`` bounds the tokens per call (default ``max_seq_len``): ExecuTorch plans activation
    memory for the largest call, so a long cache wants a smaller prefill chunk.
    ``extra_methods``: more exported programs by method name (the speculative-decoding methods).
    ``last_logits_method``: also ``forward_last`` (``_ForwardLast``), sharing forward's KV cache."""
    from executorch.backends.xnnpack.partition.config.gemm_configs import AddmmConfig, LinearConfig, MMConfig
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    cfg = model.config
    seq = torch.export.Dim("seq", min=1, max=max_chunk or max_seq_len)
    say("torch.export")
    example = (torch.tensor([[cfg.bos_token_id, 2]]), torch.arange(2))
    ep = torch.export.export(_Forward(model), example, dynamic_shapes=({1: seq}, {0: seq}), strict=False)
    extra_methods = dict(extra_methods or {})
    if last_logits_method:
        extra_methods["forward_last"] = torch.export.export(_ForwardLast(model), example,
                                                            dynamic_shapes=({1: seq}, {0: seq}), strict=False)
    say("lowering to ExecuTorch (edgecpm:: kernels; XNNPACK for float matmuls)")
    metadata = {"get_bos_id": cfg.bos_token_id, "get_eos_ids": list(cfg.eos_token_id),
                "get_max_seq_len": max_seq_len, "get_max_context_len": max_seq_len,
                "get_vocab_size": cfg.vocab_size, "use_kv_cache": True,
                "get_n_bos": 1, "get_n_eos": 0,
                "enable_dynamic_shape": runner_prefills_whole_prompts(max_seq_len, max_chunk)}
    # XNNPACK gets the float matmuls only (a float checkpoint's linears, a float LM head): the
    # attention, norms and gating are edgecpm ops, and the few adds and muls left run as plain
    # kernels. Partitioning them out would cut each layer into several tiny delegates, each a
    # call per step at run time and ~0.6 s of preprocessing at export.
    xnnpack = XnnpackPartitioner(configs=[LinearConfig, AddmmConfig, MMConfig])
    edge = to_edge_transform_and_lower({"forward": ep, **extra_methods}, partitioner=[xnnpack],
                                       constant_methods=metadata)
    if not extra_methods:
        return edge.to_executorch(), metadata
    # Several methods: the runtime gives all host methods one set of planned arenas, so mutable
    # buffers (KV caches) must be planned into the shared-state arena (mem_id 2) by name, or one
    # method's activations overwrite another's cache. Same name, same slot: ``forward``,
    # ``forward_last`` and ``verify`` share the base KV cache; the draft head's cache has its own.
    from executorch.exir import ExecutorchBackendConfig
    from executorch.exir.passes import MemoryPlanningPass

    config = ExecutorchBackendConfig(memory_planning_pass=MemoryPlanningPass(share_mutable_buffers=True),
                                     emit_mutable_buffer_names=True)
    return edge.to_executorch(config), metadata


def runner_prefills_whole_prompts(max_seq_len: int, max_chunk: int | None) -> bool:
    """``enable_dynamic_shape`` for ExecuTorch's LLM runner: whether it may pass a whole prompt
    chunk in one call. Its chunks are ``get_max_seq_len`` tokens, which here is the KV cache
    length (edgecpm-runner reads it as such), so only when the program takes that many tokens per
    call; otherwise the runner prefills one token per call, slower but within the program's shape."""
    return (max_chunk or max_seq_len) >= max_seq_len


def program_operators(program) -> list[str]:
    """The operators a program calls (outside delegates): what the runtime must have registered."""
    return sorted({str(op.name) + (f".{op.overload}" if op.overload else "")
                   for plan in program.executorch_program.execution_plan for op in plan.operators})


def export_pte(model_dir: str | Path, out_dir: str | Path, target: str = "host", max_seq_len: int | None = None,
               overwrite: bool = False, progress=None, sparse: bool | None = None,
               speculative=None) -> Path:
    """``sparse``: None follows config.json's sparse_config (InfLLM-v2 when present), False exports
    dense attention, True insists on sparse (an error for a model without sparse_config).
    ``speculative``: the speculative-decoding methods to add to the same program, as
    ``edgecpm.speculative.export_methods.draft_methods(DRAFT, FRSPEC)`` gives them: a function
    ``(model, max_seq_len, say) -> (programs by method name, manifest entry)``."""
    from edgecpm.torch_env import require_executorch

    require_executorch()
    from edgecpm.checkpoint.contents import load_config
    from edgecpm.checkpoint.loader import load_model
    from edgecpm.tokenizer.tokenizer import load_tokenizer

    model_dir = Path(model_dir)
    check_output_dir(out_dir, overwrite)  # before minutes of lowering
    recipe = load_target(target)
    max_seq_len = max_seq_len or recipe.max_seq_len
    # Every program runs on edgecpm's kernels (attention over the KV cache; packed weights;
    # InfLLM-v2): the library is checked before minutes of lowering, and bundled.
    config = load_config(model_dir)
    # The bundle carries the tokenizer (and vocab.bin made from it): a broken one is named now,
    # not after minutes of lowering.
    load_tokenizer(model_dir, config.bos_token_id, config.eos_token_id)
    has_sparse = config.sparse_config is not None
    if sparse and not has_sparse:
        raise ConfigError(f"{model_dir / 'config.json'} has no sparse_config: --sparse needs a model with "
                          "InfLLM-v2 attention (MiniCPM4-8B); MiniCPM4-0.5B has none")
    sparse = has_sparse if sparse is None else sparse
    kernels = _kernel_library_for(recipe)
    say = progress or (lambda _msg: None)
    say(f"loading {model_dir}")
    model = load_model(model_dir, dtype=torch.float32, max_seq_len=max_seq_len)
    if has_sparse and not sparse:
        model.use_dense_attention()
    fuse_projections(model.model.layers)
    cfg = model.config
    extra, spec_info = None, None
    if speculative is not None:
        extra, spec_info = speculative(model, max_seq_len, say)
    chunk = min(PREFILL_CHUNK, max_seq_len)
    program, metadata = lower_model(model, max_seq_len, say, max_chunk=chunk, extra_methods=extra,
                                    last_logits_method=True)
    ops = program_operators(program)
    say("writing")
    with atomic_dir(out_dir, overwrite=overwrite) as tmp:
        (tmp / PROGRAM).write_bytes(program.buffer)
        copy_tokenizer_files(model_dir, tmp, cfg.bos_token_id)
        write_vocab_bin(model_dir, tmp / VOCAB_BIN)  # the C++ runner decodes through it
        shutil.copy(kernels, tmp / LIBRARY_NAME)
        if spec_info is not None and spec_info["draft_vocab_ids"] is not None:
            # The draft's logits index this subset; the C++ runner reads it as binary.
            write_draft_vocab_bin(tmp / DRAFT_VOCAB_BIN, spec_info["draft_vocab_ids"])
        files = {p.name: file_sha256(p) for p in sorted(tmp.iterdir())}
        # "source": the checkpoint it came from, where peers (bench --compare) find the same weights.
        manifest = {"manifest_version": MANIFEST_VERSION, "model": model_dir.name, "source": str(model_dir.resolve()),
                    "scheme": describe_scheme(model), "bits_per_weight": round(weight_bytes(model)[0], 4),
                    "target": recipe.name, "arch": recipe.machine, "backend": "xnnpack",
                    "max_seq_len": max_seq_len, "prefill_chunk": chunk, "config": cfg.to_hf_dict(),
                    "methods": ["forward", "forward_last", *(extra or {}), *metadata],
                    "operators": ops, "kernel_library": LIBRARY_NAME,
                    "sha256": files}
        if spec_info is not None:
            manifest["speculative"] = spec_info
        manifest["features"] = program_features(manifest)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return Path(out_dir)


def _kernel_library_for(recipe: Target) -> Path:
    path = recipe.kernel_library
    if not path.is_file():
        raise KernelLibraryError(
            f"a program for --target {recipe.name} runs on edgecpm's kernels (attention, packed weights), "
            f"and {path} is not built: run {recipe.kernel_build}")
    return path
