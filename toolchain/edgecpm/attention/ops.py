"""``edgecpm::infllm_attention``: InfLLM-v2 block-sparse attention as one custom op.

The contract (shared with the C++ and Triton kernels) is ``infllm_attention_reference``'s
docstring and ``infllm_v2``'s module docstring. As for the quantized linears (quant/ops.py): the
Python reference is the implementation, a fake kernel lets ``torch.export`` see one opaque op,
and the ``.out`` schema is what ExecuTorch's ``to_executorch()`` swaps in and the kernels
implement. No autograd formula: training calls the reference directly.
"""

from __future__ import annotations

import torch

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
