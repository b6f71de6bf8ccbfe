"""minicpm4-0.5b decode through ExecuTorch: fp32, 8da4w (torchao + XNNPACK), edgecpm int4 and ternary.

Random weights with the real shapes (no weights can be fetched here): speed does not depend on
the values. Every program is lowered by the same code (edgecpm.export.pte.lower_model) and run by
the same Python runtime; only the linears of the decoder blocks differ. Embeddings and the tied
LM head stay fp32 (XNNPACK) in all four, so the comparison is the block linears.

A part of ``python -m benchmarks.kernels`` (its last table; ``--skip-model`` leaves it out).
"""

from __future__ import annotations

import time

import torch
from torch import nn

from benchmarks.common import progress
from edgecpm.bench import executorch_threads
from edgecpm.bench_records import BenchRow, cpu_name
from edgecpm.bench_timing import rates, time_calls
from edgecpm.checkpoint.random_init import random_tensors
from edgecpm.export.pte import lower_model
from edgecpm.model.minicpm import MiniCPMForCausalLM
from edgecpm.model.presets import preset
from edgecpm.quant.api import quantize_
from edgecpm.quant.config import Int4Config, TernaryConfig

PROMPT_LEN = 16


def random_model(layers: int, max_seq_len: int) -> MiniCPMForCausalLM:
    cfg = preset("minicpm4-0.5b")
    cfg.num_hidden_layers = layers
    model = MiniCPMForCausalLM(cfg)
    model.load_state_dict(dict(random_tensors(cfg, torch.float32, seed=0)), strict=False)
    model.requires_grad_(False)  # inference only: export mutates the KV cache in place
    model.setup_caches(max_seq_len)
    return model.eval()


def is_block_linear(name: str) -> bool:
    return ".layers." in f".{name}" and name != "lm_head"


def quantize_8da4w(model: nn.Module) -> None:
    from torchao.quantization import Int8DynamicActivationIntxWeightConfig
    from torchao.quantization import quantize_ as torchao_quantize
    from torchao.quantization.granularity import PerGroup

    torchao_quantize(model, Int8DynamicActivationIntxWeightConfig(weight_dtype=torch.int4,
                                                                  weight_granularity=PerGroup(32)),
                     filter_fn=lambda m, name: isinstance(m, nn.Linear) and is_block_linear(name))


def decode_speed(program, vocab: int, n_tokens: int, reps: int) -> tuple[list[float], list[float]]:
    """Prefill and decode tok/s of ``reps`` runs after a warm-up. Every decode run starts after
    the same prompt and rewrites the same cache slots, so each repetition does the same work."""
    from executorch.runtime import Runtime

    loaded = Runtime.get().load_program(program.buffer)  # the method borrows its memory: keep it
    method = loaded.load_method("forward")
    prompt = torch.randint(0, vocab, (1, PROMPT_LEN))
    first = method.execute([prompt, torch.arange(PROMPT_LEN)])[0][:, -1:].argmax(-1)

    def prefill():
        method.execute([prompt, torch.arange(PROMPT_LEN)])

    def decode():
        token = first
        for pos in range(PROMPT_LEN, PROMPT_LEN + n_tokens):
            token = method.execute([token, torch.tensor([pos])])[0][:, -1:].argmax(-1)

    return rates(PROMPT_LEN, time_calls(prefill, reps)), rates(n_tokens, time_calls(decode, reps))


def model_decode_rows(layers: int, n_tokens: int, reps: int = 3) -> list[BenchRow]:
    max_seq_len = PROMPT_LEN + n_tokens + 1
    schemes = [("fp32 XNNPACK", None), ("8da4w XNNPACK (int4 g32)", quantize_8da4w),
               ("edgecpm int4 g32", lambda m: quantize_(m, Int4Config(group_size=32), include=is_block_linear)),
               ("edgecpm ternary TQ2_0", lambda m: quantize_(m, TernaryConfig(group_size=256), include=is_block_linear))]
    rows, base, device, threads = [], None, cpu_name(), executorch_threads()
    for name, quantize in schemes:
        model = random_model(layers, max_seq_len)
        if quantize:
            quantize(model)
        t = time.perf_counter()
        program, _ = lower_model(model, max_seq_len)
        lowering = time.perf_counter() - t
        prefill, decode = decode_speed(program, model.config.vocab_size, n_tokens, reps)
        # size: the whole program, streamed once per decoded token (GB/s on the tg row)
        common = (f"minicpm4-0.5b x{layers} layers: {name}", len(program.buffer) / 2**20,
                  model.config.num_parameters / 1e6, "executorch (python)", threads)
        pp = BenchRow(*common, f"pp{PROMPT_LEN}", prefill, device=device)
        tg = BenchRow(*common, f"tg{n_tokens}", decode, device=device)
        base = base or tg.median
        tg.extra["vs fp32"] = f"{tg.median / base:.2f}x"
        progress(f"  {name}: lowered in {lowering:.0f} s, decode {tg.median:.1f} tok/s (median)")
        rows += [pp, tg]
        del model, program
    return rows
