"""A sequence length from the user, checked before a KV cache of that length is allocated.

Two limits: the model's ``max_position_embeddings`` (positions beyond it were never trained, and
the rotary tables are only defined up to it), and this machine's memory (``--max-seq-len
100000000`` used to allocate until the kernel killed the process). The cache is allocated whole
at load time, so its size is known before any work: refuse with the figure.
"""

from __future__ import annotations

import os

import typer

_DTYPE_BYTES = {"float32": 4, "fp32": 4, "bfloat16": 2, "bf16": 2, "float16": 2, "fp16": 2}


def kv_cache_bytes(cfg, seq_len: int, dtype_bytes: int) -> int:
    """What ``setup_caches(seq_len)`` allocates: keys and values for every layer, plus the fp32
    rotary tables and int64 positions. (The sparse models' compressed-key cache is a few percent
    more; an estimate that refuses only what cannot fit does not need it.)"""
    kv = cfg.num_hidden_layers * 2 * cfg.num_key_value_heads * cfg.head_dim * dtype_bytes
    rope = 2 * cfg.head_dim * 4 + 8
    return seq_len * (kv + rope)


def available_memory() -> int:
    """Bytes this process could still get: MemAvailable on Linux, else all physical memory."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def cache_dtype_bytes(cfg, dtype: str | None) -> int:
    """Bytes per cache element: ``--dtype`` if given, else the checkpoint's ``torch_dtype``."""
    return _DTYPE_BYTES.get(dtype or getattr(cfg, "torch_dtype", "float32"), 4)


def check_seq_len(option: str, seq_len: int | None, cfg, dtype: str | None = None, label: str | None = None) -> None:
    """``seq_len`` positions fit the model and this machine's memory, or a ValueError naming ``option``
    (``label``, if given, replaces "OPTION VALUE" where the positions come from several options)."""
    if seq_len is None:
        return
    label = label or f"{option} {seq_len}"
    if seq_len < 1:
        raise typer.BadParameter(f"{label}: must be at least 1")
    limit = cfg.max_position_embeddings
    if seq_len > limit:
        raise typer.BadParameter(f"{label}: the model has {limit} positions (max_position_embeddings in config.json); "
                                 f"use at most {limit}")
    need, have = kv_cache_bytes(cfg, seq_len, cache_dtype_bytes(cfg, dtype)), available_memory()
    if need > have:
        raise typer.BadParameter(f"{label}: the KV cache for {seq_len} positions needs {_size(need)}; "
                                 f"this machine has {_size(have)} available")


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"
