"""InfLLM-v2 experiment: the speedup from (injected) timings, the attention mass a selection
keeps, and the kernel's C entry point against the reference."""

from __future__ import annotations

import pytest
import torch

from edgecpm.attention.infllm_v2 import SparseParams, infllm_attention_reference
from edgecpm.reproduce import infllmv2
from edgecpm.reproduce.infllm_agreement import block_mass, mass_kept, output_agreement, plant_needles
from edgecpm.runtime.infllm_entry import compressed_keys, random_cache


def test_speedup_is_dense_over_sparse_best_repetitions():
    assert infllmv2.speedup([0.03, 0.02, 0.025], [0.005, 0.004]) == pytest.approx(5.0)


def test_decode_cycles_through_at_least_128_mib_of_caches():
    assert infllmv2.layers_to_cycle(8192) == 8        # 16 MiB of k + v per layer
    assert infllmv2.layers_to_cycle(131072) == 2      # one layer is already 256 MiB: two, so none stays warm


def test_block_mass_is_the_softmax_split_by_block():
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(1, 4, 1, 16, generator=g), torch.randn(1, 2, 200, 16, generator=g)
    mass = block_mass(q, k, 64)
    assert mass.shape == (1, 2, 2, 4)
    torch.testing.assert_close(mass.sum(-1), torch.ones(1, 2, 2))
    p = torch.softmax(q[0, 0, 0] @ k[0, 0].T / 4.0, -1)   # head 0 belongs to kv head 0
    torch.testing.assert_close(mass[0, 0, 0, 3], p[192:].sum())


def test_flat_attention_keeps_the_selected_share_of_tokens():
    # q = 0: every key weighs the same, every block scores the same. 10 blocks of 64; forced:
    # block 0 and blocks 7-9 (local 2 + the query's own); the 5th goes to the lowest index, 1.
    params = SparseParams(init_blocks=1, local_blocks=2, topk=5, dense_len=-1)
    k = torch.randn(1, 2, 640, 16, generator=torch.Generator().manual_seed(1))
    q = torch.zeros(1, 4, 1, 16)
    assert mass_kept(q, k, compressed_keys(k, params), params) == pytest.approx(5 * 64 / 640)


def test_a_budget_that_holds_every_block_keeps_all_the_mass():
    params = SparseParams(local_blocks=2, topk=20, dense_len=-1)
    g = torch.Generator().manual_seed(2)
    q, k = torch.randn(1, 4, 1, 16, generator=g), torch.randn(1, 2, 1000, 16, generator=g)
    assert mass_kept(q, k, compressed_keys(k, params), params) == pytest.approx(1.0)


def test_output_agreement_of_equal_and_opposite_outputs():
    x = torch.randn(2, 3)
    assert output_agreement(x, x) == pytest.approx((1.0, 0.0))
    assert output_agreement(-x, x) == pytest.approx((-1.0, 2.0))


def test_planted_needles_are_found_by_the_selection():
    params = SparseParams(dense_len=-1)
    g = torch.Generator().manual_seed(3)
    q = torch.randn(1, 4, 1, 16, generator=g)
    k = torch.randn(1, 2, 4096, 16, generator=g)
    before = mass_kept(q, k, compressed_keys(k, params), params)
    blocks = plant_needles(k, q, params)
    assert len(blocks) == 4 and all(params.init_blocks <= b < 63 - params.local_blocks for b in blocks)
    assert mass_kept(q, k, compressed_keys(k, params), params) > max(0.9, before)


def test_kernel_entry_point_matches_the_reference(lib):
    from edgecpm.runtime.infllm_entry import bind, kernel_call

    params = SparseParams(local_blocks=2, topk=6, dense_len=-1)   # 16 blocks, 6 kept: really sparse
    k, v, ck = random_cache(1024, 2, 64, params, seed=4)
    q = torch.randn(1, 8, 3, 64, generator=torch.Generator().manual_seed(5))
    pos = torch.arange(1021, 1024, dtype=torch.int64)
    out = kernel_call(bind(lib), q, k, v, ck, pos, torch.empty_like(q), params)
    torch.testing.assert_close(out, infllm_attention_reference(q, k, v, ck, pos, params), atol=1e-4, rtol=1e-4)


def test_without_the_kernel_library_the_rows_say_why(monkeypatch):
    from edgecpm.errors import KernelLibraryError

    def refuse():
        raise KernelLibraryError("build/kernels/host/libedgecpm_kernels.so is not built: run `make kernels`")

    monkeypatch.setattr(infllmv2, "kernel_entry", refuse)
    result = infllmv2.run(quick=True)
    assert [c.measured for c in result.claims] == [False, False, False]
    assert "run `make kernels`" in result.claims[0].ours and "run `make kernels`" in result.claims[1].ours
