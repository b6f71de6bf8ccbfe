"""InfLLM-v2 for a verification call (speculative decoding): each query row is one decode step
over its own sequence. The reference of ``edgecpm::infllm_tree_attention``.

A verify call's rows are not one sequence: tree siblings share a position, and their keys sit in
cache slots that are not their positions. Row t's **sequence** is the slots its mask allows, in
ascending order: the committed prefix (slots 0..p0-1, p0 = min(input_pos)) and then its path (its
ancestors, then itself), so slot ``seq[i]`` holds the key of position i and the row sits at
position p = len(seq) - 1 = input_pos[t]. The op gives, row by row, what the plain op gives for a
decode step at p over that sequence — what plain greedy decoding would have computed had it
produced that path — so speculative decoding stays lossless with sparse attention:

- the dense switch per row, as a decode step takes it: dense_len >= 0 and p + 1 < dense_len;
- compressed windows ending before p0 are read from ``ck_cache`` (the committed prefix's windows,
  written by earlier calls); windows ending at p0..p hold path tokens, which differ from row to
  row, so they are the means of the row's own sequence keys, computed here;
- stage 1 over those windows, blocks by position, the forced blocks, top-k, and exact attention
  over the selected positions, reading slot ``seq[i]`` for position i.

For a causal mask with slots = positions (a prefill chunk, a chain) every row's sequence is
0..p, and the call is the plain op with the switch taken per row instead of per call.
"""

from __future__ import annotations

import torch

from edgecpm.attention.infllm_v2 import SparseParams, infllm_attention_reference, window_slots


def row_sequences(attn_mask: torch.Tensor, input_pos: torch.Tensor) -> list[torch.Tensor]:
    """Each row's sequence (the slots its mask allows, ascending), checked against the contract:
    p + 1 slots, the committed prefix 0..p0-1 included."""
    p0 = int(input_pos.min())
    out = []
    for t in range(input_pos.numel()):
        seq = attn_mask[t].nonzero().flatten()
        p = int(input_pos[t])
        if seq.numel() != p + 1:
            raise ValueError(f"row {t} at position {p} may read {seq.numel()} slots; its sequence needs {p + 1}")
        if seq.numel() and not bool((seq[:p0] == torch.arange(p0, device=seq.device)).all()):
            raise ValueError(f"row {t} does not read every committed slot 0..{p0 - 1}")
        out.append(seq)
    return out


def infllm_tree_attention_reference(q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                                    ck_cache: torch.Tensor, input_pos: torch.Tensor, attn_mask: torch.Tensor,
                                    params: SparseParams) -> torch.Tensor:
    """q [B, Hq, T, D] (RoPE'd), k/v_cache [B, Hkv, S, D] holding this call's keys at their slots,
    ck_cache [B, Hkv, C, D] (rows of windows ending before min(input_pos) are read), input_pos [T]
    int64, attn_mask [T, S] bool → [B, Hq, T, D] in q's dtype."""
    if q.shape[2] == 0:
        return q.new_empty(q.shape)
    k, s = params.kernel_size, params.kernel_stride
    committed = params.num_windows(int(input_pos.min()))  # windows that end before p0
    rows = []
    for t, seq in enumerate(row_sequences(attn_mask, input_pos)):
        keys, values = k_cache[:, :, seq], v_cache[:, :, seq]
        n_windows = params.num_windows(seq.numel())
        own = window_slots(n_windows, k, s, q.device)[committed:]  # [W', K] positions in the sequence
        ck = torch.cat([ck_cache[:, :, :committed], keys[:, :, own].mean(-2)], 2)
        rows.append(infllm_attention_reference(q[:, :, t:t + 1], keys, values, ck, input_pos[t:t + 1], params))
    return torch.cat(rows, 2)
