"""Speculative generation: draft (chain or tree), verify every draft token in one base forward,
accept the longest valid path, keep both KV caches consistent.

Greedy: a child is accepted when its token is the base model's argmax at its parent, so the
output is plain greedy decoding token for token. Sampling: at each node the base distribution
``p`` (temperature → top-k → top-p, exactly as ``edgecpm.runtime.sampling.sample``) is tested against the
node's children in turn by recursive rejection sampling: a child drawn from a draft distribution
``q`` is accepted with probability min(1, p(x)/q(x)), a deterministic (top-k) child — a point
mass — with probability p(x); on rejection ``p`` becomes norm(max(p - q, 0)). When no child is
accepted the next token is drawn from what is left of ``p``. Every output token is then
distributed exactly as under plain sampling (Leviathan et al. 2023; SpecInfer's multi-candidate
form), whatever the draft proposes.

After acceptance the accepted path's K/V move to contiguous base cache slots; the rejected
nodes' slots lie beyond the new length, masked, and are overwritten later. The draft then runs
over the newly committed pairs (the base's true hidden states), which refreshes its own cache.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from edgecpm.runtime.protocols import SpeculativeBase, SpeculativeDraft
from edgecpm.runtime.result import GenerationResult
from edgecpm.runtime.sampling import SamplingConfig, sampling_weights
from edgecpm.speculative.tree import SpecConfig, Tree, draft_chain, draft_tree, tree_mask


def target_probs(logits: torch.Tensor, cfg: SamplingConfig) -> torch.Tensor:
    """The distribution ``edgecpm.runtime.sampling.sample`` draws from, as a normalised [vocab] tensor."""
    probs = sampling_weights(logits, cfg)
    return probs / probs.sum()


@dataclass
class SpecResult(GenerationResult):
    verify_steps: int = 0
    accepted_per_step: list[int] = field(default_factory=list)   # tokens emitted per verify step
    draft_s: float = 0.0
    verify_s: float = 0.0

    @property
    def mean_accepted(self) -> float:
        """Tokens per verify step (accepted draft tokens + the base's own): plain decoding is 1."""
        return sum(self.accepted_per_step) / len(self.accepted_per_step) if self.accepted_per_step else 0.0

    @property
    def draft_share(self) -> float:
        total = self.draft_s + self.verify_s
        return self.draft_s / total if total else 0.0


def _accept_greedy(tree: Tree, logits: torch.Tensor) -> tuple[list[int], int]:
    children = tree.children()
    best = logits.argmax(dim=-1).tolist()
    path, node = [0], 0
    while True:
        nxt = next((c for c in children[node] if tree.tokens[c] == best[node]), None)
        if nxt is None:
            return path, best[node]
        path.append(nxt)
        node = nxt


def _accept_sampling(tree: Tree, logits: torch.Tensor, cfg: SamplingConfig,
                     gen: torch.Generator | None) -> tuple[list[int], int]:
    children = tree.children()
    path, node = [0], 0
    while True:
        p = target_probs(logits[node], cfg)
        moved = False
        for c in children[node]:
            x, q = tree.tokens[c], tree.proposals[c]
            u = float(torch.rand(1, generator=gen))
            if q is None:
                accept = float(p[x])
            else:
                accept = min(1.0, float(p[x]) / float(q[x])) if q[x] > 0 else 0.0
            if u < accept:
                path.append(c)
                node, moved = c, True
                break
            residual = torch.clamp(p - (q if q is not None else torch.nn.functional.one_hot(
                torch.tensor(x), p.numel()).to(p.dtype)), min=0)
            total = float(residual.sum())
            if total <= 0:   # only reachable through rounding: every mass was proposed
                break
            p = residual / total
        if not moved:
            return path, int(torch.multinomial(p, 1, generator=gen))


def verify_tree(model: SpeculativeBase, tree: Tree, committed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every drafted node in one base call: slots committed.., positions committed + depth; a
    chain is causal, a tree sees the committed slots and each node's ancestors."""
    depths = torch.tensor(tree.depths)
    tokens = torch.tensor(tree.tokens)
    if tree.is_chain:
        return model.verify(tokens, committed + depths)
    return model.verify(tokens, committed + depths, committed + torch.arange(len(tree)),
                        tree_mask(tree.parents, committed, model.max_seq_len))


def accept(model: SpeculativeBase, tree: Tree, logits: torch.Tensor, committed: int, sampling: SamplingConfig,
           gen: torch.Generator | None) -> tuple[list[int], list[int]]:
    """(accepted path of tree nodes, root first; the tokens it commits: the path's drafted tokens
    and the base's own next one). The path's K/V move to contiguous slots when not in place."""
    if sampling.temperature == 0:
        path, bonus = _accept_greedy(tree, logits)
    else:
        path, bonus = _accept_sampling(tree, logits, sampling, gen)
    if path != list(range(len(path))):
        model.compact_caches(committed + torch.tensor(path), committed + torch.arange(len(path)))
    return path, [tree.tokens[i] for i in path[1:]] + [bonus]


@torch.no_grad()
def speculative_generate(model: SpeculativeBase, draft: SpeculativeDraft, prompt: list[int], max_new_tokens: int,
                         sampling: SamplingConfig | None = None, spec: SpecConfig | None = None,
                         eos_ids: list[int] | None = None,
                         on_token: Callable[[int], None] | None = None,
                         generator: torch.Generator | None = None) -> SpecResult:
    """Generate like ``edgecpm.generate.generate``, drafting with ``draft`` and verifying with
    ``model``: an eager model in ``runtime.eager.EagerBase``, or a program's ``verify`` side
    (``PteModel.speculative()``). ``generator`` (sampling) overrides
    ``sampling.seed``: many runs can share one."""
    sampling = sampling or SamplingConfig()
    spec = spec or SpecConfig()
    if not prompt:
        raise ValueError("the prompt is empty (no tokens)")
    headroom = max(spec.max_nodes, spec.max_draft_slots + 1)
    need = len(prompt) + max_new_tokens + headroom
    if need > model.max_seq_len:
        raise ValueError(f"prompt ({len(prompt)} tokens) + {max_new_tokens} new tokens + {headroom} "
                         f"draft slots exceeds the KV cache ({model.max_seq_len}); pass a larger "
                         "--max-seq-len or fewer tokens")
    gen = generator
    if gen is None and sampling.seed is not None:
        gen = torch.Generator().manual_seed(sampling.seed)
    greedy = sampling.temperature == 0
    eos = set(eos_ids or [])
    res = SpecResult(prompt_tokens=list(prompt))
    model.reset_caches()
    draft.reset_cache()

    def emit(tokens: list[int]) -> bool:
        for t in tokens:
            res.tokens.append(t)
            if on_token is not None:
                on_token(t)
            if t in eos:
                res.stopped_on_eos = True
                return True
            if len(res.tokens) >= max_new_tokens:
                return True
        return False

    t0 = time.perf_counter()
    n = len(prompt)
    hidden, logits = model.verify(torch.tensor(prompt), torch.arange(n))
    last = logits[-1]
    root = int(torch.argmax(last)) if greedy else int(torch.multinomial(target_probs(last, sampling), 1, generator=gen))
    res.prefill_s = time.perf_counter() - t0
    t_start = time.perf_counter()
    # Draft catch-up over the prompt's pairs (hidden_j, x_{j+1}), j = 0..n-1.
    t0 = time.perf_counter()
    d_out, d_logits = draft.step(torch.tensor(prompt[1:] + [root]), hidden, torch.arange(n))
    d_out, d_logits = d_out[-1], d_logits[-1]
    res.draft_s += time.perf_counter() - t0
    committed = n
    done = emit([root])
    while not done:
        t0 = time.perf_counter()
        if spec.mode == "chain":
            tree = draft_chain(draft, committed, d_out, d_logits, root, spec, sampling.temperature, gen)
        else:
            tree = draft_tree(draft, committed, d_out, d_logits, root, spec)
        t1 = time.perf_counter()
        res.draft_s += t1 - t0
        hidden, logits = verify_tree(model, tree, committed)
        path, new_tokens = accept(model, tree, logits, committed, sampling, gen)
        res.verify_s += time.perf_counter() - t1
        res.verify_steps += 1
        res.accepted_per_step.append(len(new_tokens))
        done = emit(new_tokens)
        if done:
            break
        # Draft catch-up over the committed pairs (hidden of path node, next token).
        t0 = time.perf_counter()
        d_out, d_logits = draft.step(torch.tensor(new_tokens), hidden[path], committed + torch.arange(len(path)))
        d_out, d_logits = d_out[-1], d_logits[-1]
        res.draft_s += time.perf_counter() - t0
        committed += len(path)
        root = new_tokens[-1]
    res.decode_s = time.perf_counter() - t_start
    return res
