"""GPTQ for one linear layer, and the Hessian it needs (with MiniCPM4's P-GPTQ token skip).

Why GPTQ over round-to-nearest: RTN rounds each weight alone; GPTQ rounds one input column at a
time and pushes the rounding error onto the columns not yet quantized, weighted by the inverse
Hessian of the layer's output error, ``H = 2 X^T X`` over calibration activations X. The output
``X W^T`` is what matters, and it keeps markedly closer to full precision at the same bits.

Here: the algorithm of Frantar et al. (2022) as in the reference implementation: dead inputs
(zero Hessian diagonal) zeroed, damping ``damp * mean(diag H)`` added to the diagonal, upper
Cholesky factor of ``H^-1``, lazy batch updates in blocks of ``block_size`` columns, no
act-order (MiniCPM4's release recipe: group 128, symmetric, no act-order). Each group's scale
and zero are computed when the sweep reaches the group's first column, from the weights *as
updated so far* (the reference reads not-yet-updated weights when groups are smaller than
blocks; this does not). The result is the same ``Int4Weight`` (INT4_G) as RTN's.

``HessianAccumulator`` drops the first ``skip_first`` positions of every sequence (MiniCPM4's
P-GPTQ drops 4): the first tokens' activations are outliers (attention sinks) that would
otherwise dominate H. H is returned as a mean over tokens; its overall scale does not change
GPTQ's result, since the damping is relative to its diagonal.
"""

from __future__ import annotations

import torch

from edgecpm.errors import QuantError
from edgecpm.quant.int4 import Int4Weight, check_int4_shape, int4_codes, int4_params, pack_int4
from edgecpm.quant.blocks import check_2d


class HessianAccumulator:
    """Running ``2 X^T X / n_tokens`` of one linear layer's inputs, ``[K, K]`` float32."""

    def __init__(self, in_features: int, skip_first: int = 0, device: torch.device | str | None = None):
        if skip_first < 0:
            raise QuantError(f"skip_first must be >= 0, got {skip_first}")
        self.in_features = in_features
        self.skip_first = skip_first
        self.n_tokens = 0
        self._sum = torch.zeros(in_features, in_features, dtype=torch.float32, device=device)

    def add(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> None:
        """Add activations ``[..., T, K]`` (the leading dims index sequences; 2-D = one sequence).

        ``mask`` ``[..., T]`` (true = real token) drops padding; it applies after the skip.
        """
        if x.dim() < 2 or x.shape[-1] != self.in_features:
            raise QuantError(f"Hessian for in_features={self.in_features}: activations of shape "
                             f"{tuple(x.shape)} must be [..., T, {self.in_features}]")
        x = x.detach()[..., self.skip_first:, :]
        if mask is not None:
            mask = mask[..., self.skip_first:]
            x = x[mask.to(torch.bool)]
        rows = x.reshape(-1, self.in_features).to(self._sum.device, torch.float32)
        self._sum.addmm_(rows.T, rows, alpha=2.0)
        self.n_tokens += rows.shape[0]

    def hessian(self) -> torch.Tensor:
        if self.n_tokens == 0:
            raise QuantError(f"no calibration tokens reached the Hessian (skip_first="
                             f"{self.skip_first} drops each sequence's first positions): use "
                             "longer calibration sequences or a smaller skip_first")
        return self._sum / self.n_tokens


def gptq_quantize(w: torch.Tensor, hessian: torch.Tensor, group_size: int = 128,
                  symmetric: bool = True, damp: float = 0.01, block_size: int = 128) -> Int4Weight:
    """GPTQ of a float ``[N, K]`` weight against ``hessian`` ``[K, K]`` → INT4_G (as ``quantize_int4``)."""
    n, k = check_2d(w)
    check_int4_shape((n, k), group_size)
    if tuple(hessian.shape) != (k, k):
        raise QuantError(f"GPTQ: Hessian {tuple(hessian.shape)} does not match weight {(n, k)}; "
                         f"it must be [{k}, {k}] (the layer's in_features)")
    if block_size % group_size:
        raise QuantError(f"GPTQ: block_size {block_size} must be a multiple of group_size {group_size}")

    W = w.detach().to(torch.float32).clone()
    H = hessian.detach().to(W.device, torch.float32).clone()
    dead = torch.diag(H) == 0
    H[dead, dead] = 1
    W[:, dead] = 0
    H.diagonal().add_(damp * torch.mean(torch.diag(H)))
    L, info = torch.linalg.cholesky_ex(H)
    if info.item() == 0:
        U, info = torch.linalg.cholesky_ex(torch.cholesky_inverse(L), upper=True)
    if info.item() != 0:
        raise QuantError(f"GPTQ: the damped Hessian of weight {(n, k)} is not positive definite; "
                         f"raise damp (now {damp}) or use more calibration data")

    codes = torch.empty(n, k, dtype=torch.uint8, device=W.device)
    scales = torch.empty(n, k // group_size, dtype=torch.float16, device=W.device)
    zeros = torch.empty(n, k // group_size, dtype=torch.uint8, device=W.device)
    for b0 in range(0, k, block_size):
        b1 = min(b0 + block_size, k)
        W1 = W[:, b0:b1].clone()
        err = torch.zeros_like(W1)
        U1 = U[b0:b1, b0:b1]
        for i in range(b1 - b0):
            col = b0 + i
            if col % group_size == 0:  # the group lies inside this block: block_size % group_size == 0
                s, z = int4_params(W1[:, i:i + group_size], symmetric)
                scales[:, col // group_size], zeros[:, col // group_size] = s, z
                s, z = s.float(), z.float()
            c = int4_codes(W1[:, i], s, z)
            codes[:, col] = c
            e = (W1[:, i] - (c.float() - z) * s) / U1[i, i]
            W1[:, i:] -= e.unsqueeze(1) * U1[i, i:].unsqueeze(0)
            err[:, i] = e
        W[:, b1:] -= err @ U[b0:b1, b1:]
    return pack_int4(codes, scales, None if symmetric else zeros, group_size)
