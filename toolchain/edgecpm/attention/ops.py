"""``edgecpm::infllm_attention`` (InfLLM-v2 block-sparse attention) and ``edgecpm::infllm_tree_attention``
(the same for a verification call, row by row over each row's own sequence) as custom ops.

The contracts (shared with the C++ and Triton kernels) are ``infllm_attention_reference``'s
docstring with ``infllm_v2``'s module docstring, and ``infllm_tree``'s. As for the quantized linears (quant/ops.py): the
Python reference is the implementation, a fake kernel lets ``torch.export`` see one opaque op,
and the ``.out`` schema is what ExecuTorch's ``to_executorch()`` swaps in and the kernels
implement. No autograd formula: training calls the reference directly.
"""

from __future__ import annotations

import torch

from edgecpm.attention.infllm_tree import infllm_tree_attention_reference
from edgecpm.attention.infllm_v2 import SparseParams, infllm_attention_reference


@torch.library.custom_op("edgecpm::infllm_attention", mutates_args=())
def infllm_attention(q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor, ck_cache: torch.Tensor,
                     input_pos: torch.Tensor, kernel_size: int, kernel_stride: int, block_size: int,
                     init_blocks: int, local_blocks: int, topk: int, dense_len: int) -> torch.Tensor:
    params = SparseParams(kernel_size=kernel_size, kernel_stride=kernel_stride, block_size=block_size,
                          init_blocks=init_blocks, local_blocks=local_blocks, topk=topk, dense_len=dense_len)
    return infllm_attention_reference(q, k_cache, v_cache, ck_cache, input_pos, params)


@infllm_attention.register_fake
def _(q, k_cache, v_cache, ck_cache, input_pos, kernel_size, kernel_stride, block_size, init_blocks,
      local_blocks, topk, dense_len):
    return q.new_empty(q.shape)


# Schema only (see quant/ops.py): integer arguments are SymInt, as custom_op declares Python ints.
torch.library.define(
    "edgecpm::infllm_attention.out",
    "(Tensor q, Tensor k_cache, Tensor v_cache, Tensor ck_cache, Tensor input_pos, SymInt kernel_size, "
    "SymInt kernel_stride, SymInt block_size, SymInt init_blocks, SymInt local_blocks, SymInt topk, "
    "SymInt dense_len, *, Tensor(a!) out) -> Tensor(a!)")


@torch.library.custom_op("edgecpm::infllm_tree_attention", mutates_args=())
def infllm_tree_attention(q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor, ck_cache: torch.Tensor,
                          input_pos: torch.Tensor, attn_mask: torch.Tensor, kernel_size: int, kernel_stride: int,
                          block_size: int, init_blocks: int, local_blocks: int, topk: int,
                          dense_len: int) -> torch.Tensor:
    params = SparseParams(kernel_size=kernel_size, kernel_stride=kernel_stride, block_size=block_size,
                          init_blocks=init_blocks, local_blocks=local_blocks, topk=topk, dense_len=dense_len)
    return infllm_tree_attention_reference(q, k_cache, v_cache, ck_cache, input_pos, attn_mask, params)


@infllm_tree_attention.register_fake
def _(q, k_cache, v_cache, ck_cache, input_pos, attn_mask, kernel_size, kernel_stride, block_size, init_blocks,
      local_blocks, topk, dense_len):
    return q.new_empty(q.shape)


torch.library.define(
    "edgecpm::infllm_tree_attention.out",
    "(Tensor q, Tensor k_cache, Tensor v_cache, Tensor ck_cache, Tensor input_pos, Tensor attn_mask, "
    "SymInt kernel_size, SymInt kernel_stride, SymInt block_size, SymInt init_blocks, SymInt local_blocks, "
    "SymInt topk, SymInt dense_len, *, Tensor(a!) out) -> Tensor(a!)")
