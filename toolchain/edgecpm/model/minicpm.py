"""MiniCPM4 in PyTorch, export-friendly (MINICPM4.md §2).

Module names follow the Hugging Face checkpoint, so ``state_dict()`` keys are the safetensors
names (``model.layers.0.self_attn.q_proj.weight`` …) and loading needs no renaming table.

Two paths through ``forward``:
- ``input_pos is None``: a plain causal forward over the tokens, no cache (training, eval).
- ``input_pos`` given: the static KV cache path (prefill a chunk or decode one token). Positions
  are an input, the cache is a fixed ``max_seq_len`` buffer, the mask is computed from positions:
  no Python branch depends on tensor values, so ``torch.export`` traces it once for all steps.
Which path runs is decided by the *presence* of ``input_pos``, fixed at trace time.
"""

from __future__ import annotations

import re

import torch
import torch.nn.functional as F
from torch import nn

import edgecpm.attention.cache_write  # noqa: F401  registers torch.ops.edgecpm.cache_write
import edgecpm.attention.cached_attention  # noqa: F401  registers torch.ops.edgecpm.cached_attention
import edgecpm.attention.ops  # noqa: F401  registers torch.ops.edgecpm.infllm_attention
from edgecpm.attention.cache import CompressedKeyCache
from edgecpm.attention.infllm_v2 import SparseParams, compress_keys, infllm_attention_reference
from edgecpm.attention.rotary import apply_rope
from edgecpm.model import fused_ops
from edgecpm.model.config import MiniCPMConfig
from edgecpm.model.rope import RopeTables
from edgecpm.quant.concat import concat_linears


# The linears inside decoder blocks: what BitCPM / int4 quantize. Embeddings, the LM head and the
# norms stay in high precision.
_BLOCK_LINEAR = re.compile(r"model\.layers\.\d+\.(self_attn\.[qkvo]_proj|mlp\.(gate|up|down)_proj)")


def is_block_linear(module_path: str) -> bool:
    return _BLOCK_LINEAR.fullmatch(module_path) is not None


class RMSNorm(nn.Module):
    """Variance in fp32, normalise, cast back, then scale (the official ``rms_layernorm`` order)."""

    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fused_ops.rms_norm(x, self.weight, self.eps)


class KVCache(nn.Module):
    """Keys/values of one layer for ``max_seq_len`` positions: [batch, kv_heads, max_seq_len, head_dim]."""

    def __init__(self, batch: int, kv_heads: int, max_seq_len: int, head_dim: int,
                 dtype: torch.dtype, device: torch.device | str | None = None):
        super().__init__()
        shape = (batch, kv_heads, max_seq_len, head_dim)
        self.register_buffer("k_cache", torch.zeros(shape, dtype=dtype, device=device), persistent=False)
        self.register_buffer("v_cache", torch.zeros(shape, dtype=dtype, device=device), persistent=False)

    def update(self, input_pos: torch.Tensor, k: torch.Tensor, v: torch.Tensor):
        # In place (edgecpm::cache_write): an index_put_ on the buffer would export as a copy of
        # the whole cache per call.
        torch.ops.edgecpm.cache_write(self.k_cache, k, input_pos)
        torch.ops.edgecpm.cache_write(self.v_cache, v, input_pos)
        return self.k_cache, self.v_cache

    def move(self, src: torch.Tensor, dst: torch.Tensor) -> None:
        """Slots ``src`` copied to slots ``dst`` (read first, then written in place)."""
        torch.ops.edgecpm.cache_write(self.k_cache, self.k_cache[:, :, src].clone(), dst)
        torch.ops.edgecpm.cache_write(self.v_cache, self.v_cache[:, :, src].clone(), dst)


def cache_mask(input_pos: torch.Tensor, cache_pos: torch.Tensor | None, attn_mask: torch.Tensor | None,
               positions: torch.Tensor) -> torch.Tensor | None:
    """The slots each query may read, for the cache path: ``attn_mask`` when given; None (causal
    by slot, the attention op's own rule) when tokens sit in the slots of their positions; else
    causal by position: the query at position p reads slots 0..p, stale slots beyond are masked."""
    if attn_mask is not None:
        return attn_mask
    if cache_pos is None:
        return None
    return input_pos.unsqueeze(1) >= positions.unsqueeze(0)


class Attention(nn.Module):
    def __init__(self, cfg: MiniCPMConfig):
        super().__init__()
        self.n_heads = cfg.num_attention_heads
        self.n_kv = cfg.num_key_value_heads
        self.head_dim = cfg.head_dim
        h = cfg.hidden_size
        self.q_proj = nn.Linear(h, self.n_heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(h, self.n_kv * self.head_dim, bias=False)
        self.v_proj = nn.Linear(h, self.n_kv * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.n_heads * self.head_dim, h, bias=False)
        # q/k/v stacked into one linear by fuse_projections (export); None: the three above.
        self.qkv_proj: nn.Module | None = None
        self.kv_cache: KVCache | None = None
        # InfLLM-v2 block-sparse attention: set by MiniCPMForCausalLM for its own layers when the
        # config has sparse_config (an EAGLE draft layer built from the same config stays dense).
        self.sparse: SparseParams | None = None
        self.ck_cache: CompressedKeyCache | None = None

    def forward(self, x, cos, sin, input_pos=None, mask=None, positions=None):
        """``input_pos``: the cache slots of the tokens (None: no cache, the tokens alone).
        ``mask``: with the cache, [T, max_seq_len] bool or None for causal by slot; without,
        [T, T] bool or None for causal. ``positions``: the tokens' positions when they are not
        their slots (a verification call); only sparse attention needs them."""
        b, t, _ = x.shape
        q, k, v = self.project_qkv(x)
        q = q.reshape(b, t, self.n_heads, self.head_dim)
        k = k.reshape(b, t, self.n_kv, self.head_dim)
        v = v.reshape(b, t, self.n_kv, self.head_dim)
        if input_pos is not None and self.sparse is None:
            # One op: rotation, in-place K/V write, grouped attention over the visible slots.
            y = torch.ops.edgecpm.cached_attention(q, k, v, self.kv_cache.k_cache, self.kv_cache.v_cache,
                                                   cos, sin, input_pos, mask)
            return self.o_proj(y.reshape(b, t, self.n_heads * self.head_dim))
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if self.sparse is not None:
            y = self.sparse_attention(q, k, v, input_pos, positions, mask)
            return self.o_proj(y.transpose(1, 2).reshape(b, t, self.n_heads * self.head_dim))
        groups = self.n_heads // self.n_kv
        # Head i reads KV head i // groups, as HF's repeat_kv does.
        k = k.repeat_interleave(groups, dim=1)
        v = v.repeat_interleave(groups, dim=1)
        if mask is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.o_proj(y.transpose(1, 2).reshape(b, t, self.n_heads * self.head_dim))

    def project_qkv(self, x):
        if self.qkv_proj is None:
            return self.q_proj(x), self.k_proj(x), self.v_proj(x)
        q_size, kv_size = self.n_heads * self.head_dim, self.n_kv * self.head_dim
        return self.qkv_proj(x).split([q_size, kv_size, kv_size], dim=-1)

    def sparse_attention(self, q, k, v, input_pos=None, positions=None, mask=None):
        """InfLLM-v2 (MINICPM4.md §3). With the cache and no mask (prefill, decode): write K/V and
        the compressed keys the new positions complete, then one ``edgecpm::infllm_attention``
        (causal by position). With a mask (a verification call: tree or chain, slots
        ``input_pos`` at ``positions``): ``edgecpm::infllm_tree_attention``, each row a decode step
        over the slots its mask allows (``attention/infllm_tree.py``); only rows sitting in the
        slot of their own position (the first branch, whose keys there are its own path) write
        compressed keys, the others' windows are computed by the op from their own path. Without
        the cache: the reference over this sequence alone at positions 0..T-1 — what the op gives
        for a prefill from position 0, dense_len switch included — and differentiable, for
        training and eval."""
        p = self.sparse
        if input_pos is None:
            pos = torch.arange(q.shape[2], device=q.device)
            return infllm_attention_reference(q, k, v, compress_keys(k, p.kernel_size, p.kernel_stride), pos, p)
        k_cache, v_cache = self.kv_cache.update(input_pos, k, v)
        if mask is None:
            ck_cache = self.ck_cache.update(input_pos, k_cache)
            return torch.ops.edgecpm.infllm_attention(q, k_cache, v_cache, ck_cache, input_pos, *p.op_args())
        positions = input_pos if positions is None else positions
        # -1: a position that completes no window (the row writes the scratch row).
        ck_cache = self.ck_cache.update(torch.where(input_pos == positions, positions, -1), k_cache)
        return torch.ops.edgecpm.infllm_tree_attention(q, k_cache, v_cache, ck_cache, positions, mask, *p.op_args())


class MLP(nn.Module):
    def __init__(self, cfg: MiniCPMConfig):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.up_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.down_proj = nn.Linear(cfg.intermediate_size, cfg.hidden_size, bias=False)
        self.gate_up_proj: nn.Module | None = None  # gate/up stacked by fuse_projections

    def forward(self, x):
        if self.gate_up_proj is None:
            gate, up = self.gate_proj(x), self.up_proj(x)
        else:
            gate, up = self.gate_up_proj(x).chunk(2, dim=-1)
        return self.down_proj(fused_ops.silu_mul(gate, up))


class DecoderLayer(nn.Module):
    def __init__(self, cfg: MiniCPMConfig, residual_scale: float | None = None):
        super().__init__()
        self.self_attn = Attention(cfg)
        self.mlp = MLP(cfg)
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        # scale_depth / sqrt(L); an EAGLE draft layer passes its own (L + 1).
        self.residual_scale = cfg.residual_scale if residual_scale is None else residual_scale

    def forward(self, h, cos, sin, input_pos=None, mask=None, positions=None):
        h = h + self.self_attn(self.input_layernorm(h), cos, sin, input_pos, mask, positions) * self.residual_scale
        return h + self.mlp(self.post_attention_layernorm(h)) * self.residual_scale


def fuse_projections(layers) -> None:
    """For export: each layer's q/k/v, and gate/up, as one stacked linear (quant/concat.py) where
    their kinds allow — one input quantization and one GEMV call instead of three / two, the same
    outputs to the bit. The separate linears are dropped, so only the stacked weights are exported."""
    for layer in layers:
        attn, mlp = layer.self_attn, layer.mlp
        if attn.qkv_proj is None and (qkv := concat_linears([attn.q_proj, attn.k_proj, attn.v_proj])) is not None:
            attn.qkv_proj, attn.q_proj, attn.k_proj, attn.v_proj = qkv, None, None, None
        if mlp.gate_up_proj is None and (gate_up := concat_linears([mlp.gate_proj, mlp.up_proj])) is not None:
            mlp.gate_up_proj, mlp.gate_proj, mlp.up_proj = gate_up, None, None


class MiniCPMModel(nn.Module):
    """Embedding, decoder layers and final norm: the ``model.*`` part of the checkpoint."""

    def __init__(self, cfg: MiniCPMConfig):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)


class MiniCPMForCausalLM(nn.Module):
    def __init__(self, cfg: MiniCPMConfig):
        super().__init__()
        self.config = cfg
        self.model = MiniCPMModel(cfg)
        self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        if cfg.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight
        if cfg.sparse_config is not None:
            sparse = SparseParams.from_config(cfg.sparse_config)
            for layer in self.model.layers:
                layer.self_attn.sparse = sparse
        self.max_seq_len = 0

    # ---- static state: rotary tables and KV cache ----
    def setup_caches(self, max_seq_len: int, max_batch_size: int = 1, dtype: torch.dtype | None = None):
        """Allocate rotary tables for ``max_seq_len`` positions and a KV cache per layer.

        Called after the weights are in place (they may have been built on the meta device).
        The LongRoPE factor set is not chosen here but per call, from the call's length
        (``model/rope.py``): logits do not depend on ``max_seq_len``.
        """
        weight = self.model.norm.weight  # always a float parameter (tables may be quantized)
        dtype = dtype or weight.dtype
        cfg = self.config
        self.rope = RopeTables(cfg, max_seq_len, weight.device)
        self.register_buffer("positions", torch.arange(max_seq_len, device=weight.device), persistent=False)
        for layer in self.model.layers:
            layer.self_attn.kv_cache = KVCache(max_batch_size, cfg.num_key_value_heads, max_seq_len,
                                               cfg.head_dim, dtype, weight.device)
            if layer.self_attn.sparse is not None:
                layer.self_attn.ck_cache = CompressedKeyCache(max_batch_size, cfg.num_key_value_heads, max_seq_len,
                                                              cfg.head_dim, layer.self_attn.sparse, dtype, weight.device)
        self.max_seq_len = max_seq_len

    def use_dense_attention(self) -> None:
        """Run every layer with plain dense attention (``export --no-sparse``): the same weights,
        the config without sparse_config; the compressed-key caches are dropped."""
        for layer in self.model.layers:
            layer.self_attn.sparse = None
            layer.self_attn.ck_cache = None
        self.config.sparse_config = None

    def reset_caches(self):
        for layer in self.model.layers:
            layer.self_attn.kv_cache.k_cache.zero_()
            layer.self_attn.kv_cache.v_cache.zero_()
            if layer.self_attn.ck_cache is not None:
                layer.self_attn.ck_cache.ck_cache.zero_()

    # ---- forward ----
    def hidden_states(self, tokens: torch.Tensor, input_pos: torch.Tensor | None = None,
                      cache_pos: torch.Tensor | None = None, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Final hidden state after the last norm, [B, T, hidden] (what an EAGLE draft head reads).

        Tree verification (speculative decoding) passes two more, both with ``input_pos``:
        ``cache_pos`` [T], the cache slots the tokens' K/V go to (their rope positions stay
        ``input_pos``: tree siblings share a position but not a slot), and ``attn_mask``
        [T, max_seq_len] bool, which slots each token may read (the tree mask). Absent, slots
        are the positions and the mask is causal, exactly as before.
        """
        if self.max_seq_len == 0:
            raise RuntimeError("call setup_caches(max_seq_len) before running the model")
        t = tokens.shape[1]
        if input_pos is None:
            (cos, sin), mask = self.rope.first(t), None
        else:
            cos, sin = self.rope.rows(input_pos)
            mask = cache_mask(input_pos, cache_pos, attn_mask, self.positions)
        slots = input_pos if cache_pos is None else cache_pos
        h = self.model.embed_tokens(tokens) * self.config.scale_emb
        for layer in self.model.layers:
            h = layer(h, cos, sin, slots, mask, input_pos)
        return self.model.norm(h)

    def compact_caches(self, src: torch.Tensor, dst: torch.Tensor) -> None:
        """Copy the K/V of cache slots ``src`` to slots ``dst`` in every layer (after a tree
        verification, the accepted path moves to contiguous slots; what it leaves behind lies
        beyond the new length and is masked until overwritten). A sparse layer then writes the
        compressed keys the moved positions complete: the committed prefix's windows, which the
        next verification reads from its cache."""
        for layer in self.model.layers:
            cache = layer.self_attn.kv_cache
            cache.move(src, dst)
            if layer.self_attn.ck_cache is not None:
                layer.self_attn.ck_cache.update(dst, cache.k_cache)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        # The official code applies lm_head in the model dtype, then casts to fp32.
        return self.lm_head(hidden / self.config.logit_divisor).float()

    def forward(self, tokens: torch.Tensor, input_pos: torch.Tensor | None = None,
                cache_pos: torch.Tensor | None = None, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Logits [B, T, vocab] in fp32."""
        return self.logits(self.hidden_states(tokens, input_pos, cache_pos, attn_mask))
