"""The host kernel library's InfLLM-v2 attention, called through its C entry point on torch
tensors' memory: how ``benchmarks.infllm`` and ``edgecpm reproduce infllmv2`` time the C++ kernel
without a program around it (in a model the caches are program buffers, so no input copies belong
in the time).

``edgecpm_infllm_attention_f32`` takes q [B, Hq, T, D], k/v caches [B, Hkv, S, D], compressed keys
[B, Hkv, C, D], positions [T] and the output [B, Hq, T, D], all contiguous fp32 (positions int64),
then the shapes and ``SparseParams.op_args()``.
"""

from __future__ import annotations

import ctypes

import torch

from edgecpm.attention.infllm_v2 import SparseParams

_I64 = ctypes.c_int64


def bind(lib: ctypes.CDLL):
    """The entry point with its argument types set (``lib``: ``kernel_library.load_library()``)."""
    fn = lib.edgecpm_infllm_attention_f32
    fn.restype = ctypes.c_int
    fn.argtypes = [ctypes.c_void_p] * 6 + [_I64] * 14
    lib.edgecpm_kernels_threads.restype = _I64
    return fn


def kernel_threads(lib: ctypes.CDLL) -> int:
    """The kernels' thread count (ExecuTorch's pool)."""
    lib.edgecpm_kernels_threads.restype = _I64
    return int(lib.edgecpm_kernels_threads())


def kernel_call(fn, q, k, v, ck, pos, out, params: SparseParams):
    """``out`` = InfLLM-v2 attention of ``q`` over the caches; raises when the kernel refuses."""
    b, hq, t, d = q.shape
    rc = fn(q.data_ptr(), k.data_ptr(), v.data_ptr(), ck.data_ptr(), pos.data_ptr(), out.data_ptr(),
            b, hq, k.shape[1], t, k.shape[2], ck.shape[2], d, *params.op_args())
    if rc != 0:
        raise RuntimeError("edgecpm_infllm_attention_f32 refused the problem (see stderr)")
    return out


def compressed_keys(k: torch.Tensor, params: SparseParams) -> torch.Tensor:
    """The window means of ``k`` [B, Hkv, S, D] without materialising [nw, kernel, D] (unfold is a view)."""
    return k.unfold(2, params.kernel_size, params.kernel_stride).mean(-1).contiguous()


def random_cache(context: int, kv_heads: int, head_dim: int, params: SparseParams, seed: int = 0):
    """Random k / v caches of ``context`` positions and their compressed keys."""
    g = torch.Generator().manual_seed(seed)
    k = torch.randn(1, kv_heads, context, head_dim, generator=g)
    v = torch.randn(1, kv_heads, context, head_dim, generator=g)
    return k, v, compressed_keys(k, params)
