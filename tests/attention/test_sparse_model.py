"""A MiniCPM4 with sparse_config runs InfLLM-v2: decoding token by token equals prefilling the
sequence and the cache-free forward, the compressed-key cache written incrementally equals
compress_keys of the full keys, and blocks really are dropped (it is not dense attention)."""

from __future__ import annotations

import copy
import dataclasses

import pytest
import torch

from edgecpm.attention.infllm_v2 import compress_keys
from edgecpm.checkpoint.loader import load_model
from edgecpm.attention.sparse_config import SparseConfig
from tests.conftest import make_checkpoint, small_config

# Small InfLLM-v2: kernel 4 / stride 2 / block 8, 1 init + 1 local + own block forced, budget 4.
SMALL = SparseConfig(kernel_size=4, kernel_stride=2, init_blocks=1, block_size=8, window_size=8, topk=3,
                     dense_len=-1)
# The real kernel/stride/block with a small budget: 1 init + 1 local + own + 1 free of ~10 blocks.
REAL = SparseConfig(kernel_size=32, kernel_stride=16, init_blocks=1, block_size=64, window_size=64, topk=3,
                    dense_len=-1)


def sparse_model(tmp_path, sc: SparseConfig, max_seq_len: int):
    cfg = small_config()
    cfg.sparse_config = copy.deepcopy(sc)
    cfg.max_position_embeddings = max(cfg.max_position_embeddings, max_seq_len)
    return load_model(make_checkpoint(tmp_path / "ckpt", cfg.validate()), max_seq_len=max_seq_len)


def tokens(n: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(3, 96, (1, n), generator=torch.Generator().manual_seed(seed))


def run_chunks(model, ids, splits):
    """Feed ids through the cache in chunks ending at each split (1-token chunks = decode)."""
    model.reset_caches()
    out, start = [], 0
    for end in splits:
        out.append(model(ids[:, start:end], torch.arange(start, end)))
        start = end
    return torch.cat(out, 1)


def set_dense(model, dense: bool):
    """Switch every layer to plain dense attention (the same weights) and back."""
    for layer in model.model.layers:
        a = layer.self_attn
        a._saved_sparse = getattr(a, "_saved_sparse", a.sparse)
        a.sparse = None if dense else a._saved_sparse


def check_decode_equals_prefill(model, n: int, prefill: int, tol: float):
    ids = tokens(n)
    with torch.no_grad():
        full = run_chunks(model, ids, [n])
        # The compressed keys written incrementally (one prefill) equal the full keys' compression.
        for layer in model.model.layers:
            k = layer.self_attn.kv_cache.k_cache[:, :, :n]
            ck = compress_keys(k, layer.self_attn.sparse.kernel_size, layer.self_attn.sparse.kernel_stride)
            assert torch.equal(layer.self_attn.ck_cache.ck_cache[:, :, :ck.shape[2]], ck)
        stepped = run_chunks(model, ids, [prefill, *range(prefill + 1, n + 1)])
        # ... and so do those written one decode step at a time.
        for layer in model.model.layers:
            k = layer.self_attn.kv_cache.k_cache[:, :, :n]
            ck = compress_keys(k, layer.self_attn.sparse.kernel_size, layer.self_attn.sparse.kernel_stride)
            assert torch.equal(layer.self_attn.ck_cache.ck_cache[:, :, :ck.shape[2]], ck)
        no_cache = model(ids)
        set_dense(model, True)
        dense = run_chunks(model, ids, [n])
        set_dense(model, False)
    assert (stepped - full).abs().max().item() <= tol
    assert (no_cache - full).abs().max().item() <= tol
    return full, dense


def test_small_sparse_model_decode_equals_prefill(tmp_path):
    model = sparse_model(tmp_path, SMALL, max_seq_len=128)
    full, dense = check_decode_equals_prefill(model, n=90, prefill=50, tol=1e-4)
    # The first positions see few enough blocks that all are taken (= dense); later ones drop blocks.
    assert (full[:, :24] - dense[:, :24]).abs().max().item() <= 1e-4
    assert (full[:, 40:] - dense[:, 40:]).abs().max().item() > 1e-3  # 10x the tolerance
    # The ck cache has one scratch row past the C windows a max_seq_len cache can complete.
    assert model.model.layers[0].self_attn.ck_cache.ck_cache.shape == (1, 2, (128 - 4) // 2 + 1 + 1, 16)


@pytest.mark.slow
def test_real_kernel_stride_block_decode_equals_prefill(tmp_path):
    model = sparse_model(tmp_path, REAL, max_seq_len=640)
    full, dense = check_decode_equals_prefill(model, n=600, prefill=420, tol=1e-4)
    # Up to 4 blocks (256 tokens) everything is selected; at 600 tokens 6 of 10 blocks are dropped.
    assert (full[:, :256] - dense[:, :256]).abs().max().item() <= 1e-4
    assert (full[:, 400:] - dense[:, 400:]).abs().max().item() > 1e-3  # measured 1.05e-2


def test_dense_len_switch_in_the_model(tmp_path):
    model = sparse_model(tmp_path, dataclasses.replace(SMALL, dense_len=60), max_seq_len=128)
    ids = tokens(100, seed=1)
    with torch.no_grad():
        stepped = run_chunks(model, ids, [50, *range(51, 101)])
        one_call = run_chunks(model, ids, [100])
        set_dense(model, True)
        dense = run_chunks(model, ids, [100])
        set_dense(model, False)
        for layer in model.model.layers:
            layer.self_attn.sparse = dataclasses.replace(layer.self_attn.sparse, dense_len=-1)
        always = run_chunks(model, ids, [100])
    # The switch is per call, from its KV length (the official code). Prefill 50 then decode:
    # calls reaching < 60 are dense, so rows 0..58 are; the later calls are sparse.
    assert (stepped[:, :59] - dense[:, :59]).abs().max().item() <= 1e-4
    assert (stepped[:, 59:] - dense[:, 59:]).abs().max().item() > 1e-3
    # One prefill of 100 >= 60: sparse from its first row, exactly dense_len = -1.
    assert (one_call - always).abs().max().item() <= 1e-6
    assert (always[:, :59] - dense[:, :59]).abs().max().item() > 1e-3
