"""Drafting: a chain, or an EAGLE-2 dynamic tree, of candidate tokens from the draft head.

Positions and slots. The base cache holds the committed tokens x_0..x_{P-1}; the root of the
tree is x_P (committed, not yet in the base cache). The draft cache holds its pairs
(hidden_j, x_{j+1}) for j = 0..P-1, and the draft's output at pair P-1 (``d_hidden``,
``d_logits``) proposes x_{P+1}. A tree node at depth d stands for x_{P+d}; expanding it runs the
draft on pair (its parent's predicted hidden, its token) at rope position P+d-1. Expanded nodes
take draft cache slots P, P+1, … in expansion order and see the committed slots plus their own
ancestors (the tree mask); those slots are overwritten by the next round's catch-up.

EAGLE-2 (``num_iter``, ``topk_per_iter``, ``tree_size``; MiniCPM4 uses 2 / 10 / 12): the root's
``topk_per_iter`` best children form depth 1; each of ``num_iter`` rounds expands the
``topk_per_iter`` nodes of the newest depth with the highest cumulative log-probability and
scores their ``topk_per_iter`` best children each; then the ``tree_size - 1`` best nodes of all
scored ones (by cumulative log-probability) form the tree with the root. ``num_iter`` counts
expansion rounds after the first draft step, as EAGLE-2's ``depth``: the tree is at most
``num_iter + 1`` deep and a verify step can accept at most ``num_iter + 2`` tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class SpecConfig:
    mode: str = "tree"          # "tree" (EAGLE-2) or "chain"
    num_iter: int = 2
    topk_per_iter: int = 10
    tree_size: int = 12
    chain_len: int = 3          # chain mode: draft tokens per verify step

    def __post_init__(self):
        if self.mode not in ("tree", "chain"):
            raise ValueError(f"speculative mode {self.mode!r}: choose tree or chain")
        if min(self.num_iter, self.chain_len) < 0 or min(self.topk_per_iter, self.tree_size) < 1:
            raise ValueError(f"bad speculative settings {self}")

    @property
    def max_nodes(self) -> int:
        """Tree nodes (root included) a verify step can hold: the base cache slots it needs."""
        return self.chain_len + 1 if self.mode == "chain" else self.tree_size

    @property
    def max_draft_slots(self) -> int:
        return self.chain_len if self.mode == "chain" else self.num_iter * self.topk_per_iter


@dataclass
class Tree:
    """Nodes in topological order (a parent before its children); node 0 is the root."""

    tokens: list[int]
    parents: list[int]
    depths: list[int]
    # The distribution each node's token was sampled from (full vocabulary), or None for a
    # deterministic (top-k) proposal, which rejection sampling treats as a point mass.
    proposals: list[torch.Tensor | None] = field(default_factory=list)

    def __len__(self):
        return len(self.tokens)

    def children(self) -> list[list[int]]:
        out: list[list[int]] = [[] for _ in self.tokens]
        for i, p in enumerate(self.parents):
            if p >= 0:
                out[p].append(i)
        return out

    @property
    def is_chain(self) -> bool:
        return all(p == i - 1 for i, p in enumerate(self.parents))


def ancestor_matrix(parents: list[int]) -> torch.Tensor:
    """[N, N] bool: row i marks i and its ancestors (parents listed before children)."""
    n = len(parents)
    a = torch.zeros(n, n, dtype=torch.bool)
    for i, p in enumerate(parents):
        if p >= 0:
            a[i] = a[p]
        a[i, i] = True
    return a


def tree_mask(parents: list[int], committed: int, max_seq_len: int) -> torch.Tensor:
    """[N, max_seq_len] bool for nodes in slots committed..committed+N-1."""
    n = len(parents)
    mask = torch.zeros(n, max_seq_len, dtype=torch.bool)
    mask[:, :committed] = True
    mask[:, committed:committed + n] = ancestor_matrix(parents)
    return mask


def _sampling_probs(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    return torch.softmax(logits / temperature, dim=-1)


def draft_chain(draft, committed: int, d_hidden: torch.Tensor, d_logits: torch.Tensor, root: int,
                cfg: SpecConfig, temperature: float = 0.0, gen: torch.Generator | None = None) -> Tree:
    """``chain_len`` tokens, each the draft's argmax (greedy) or a sample of its distribution."""
    tree = Tree(tokens=[root], parents=[-1], depths=[0], proposals=[None])
    vocab = draft.config.vocab_size
    hidden, logits = d_hidden, d_logits
    for i in range(cfg.chain_len):
        if temperature == 0:
            idx = int(torch.argmax(logits))
            proposal = None
        else:
            q = _sampling_probs(logits, temperature)
            idx = int(torch.multinomial(q, 1, generator=gen))
            proposal = torch.zeros(vocab).index_copy_(0, draft.vocab_ids, q) if draft.vocab_ids is not None else q
        token = int(draft.to_full_ids(torch.tensor(idx)))
        tree.tokens.append(token)
        tree.parents.append(i)
        tree.depths.append(i + 1)
        tree.proposals.append(proposal)
        if i + 1 < cfg.chain_len:
            out, out_logits = draft.step(torch.tensor([token]), hidden.view(1, -1), torch.tensor([committed + i]))
            hidden, logits = out[0], out_logits[0]
    return tree


def draft_tree(draft, committed: int, d_hidden: torch.Tensor, d_logits: torch.Tensor, root: int,
               cfg: SpecConfig) -> Tree:
    """EAGLE-2 dynamic tree (deterministic top-k proposals)."""
    k = cfg.topk_per_iter
    max_seq_len = draft.max_seq_len
    # The pool of scored nodes: token (draft vocabulary index), parent (pool index, -1 = root),
    # depth, cumulative log-prob, predicted hidden of the pair it stands for (set when expanded).
    logp = torch.log_softmax(d_logits.float(), dim=-1)
    top = torch.topk(logp, min(k, logp.numel()))
    toks = top.indices.tolist()
    scores = top.values.tolist()
    parents = [-1] * len(toks)
    depths = [1] * len(toks)
    frontier = list(range(len(toks)))       # pool indices of the newest depth to expand
    parent_hidden = {-1: d_hidden}
    slot_of: dict[int, int] = {}             # pool index -> draft cache slot (expanded nodes)
    expanded_parents: list[int] = []         # per slot: the slot of its parent, -1 for root children
    for _ in range(cfg.num_iter):
        frontier = sorted(frontier, key=lambda i: -scores[i])[:k]
        if not frontier:
            break
        base_slot = len(expanded_parents)
        for j, node in enumerate(frontier):
            slot_of[node] = base_slot + j
            expanded_parents.append(slot_of.get(parents[node], -1))
        # Draft on the frontier's pairs, each seeing the committed slots and its ancestors.
        n_exp = len(expanded_parents)
        mask = torch.zeros(len(frontier), max_seq_len, dtype=torch.bool)
        mask[:, :committed] = True
        anc = ancestor_matrix(expanded_parents)[base_slot:]
        mask[:, committed:committed + n_exp] = anc
        tokens = draft.to_full_ids(torch.tensor([toks[i] for i in frontier]))
        hidden_in = torch.stack([parent_hidden[parents[i]] for i in frontier])
        pos = torch.tensor([committed + depths[i] - 1 for i in frontier])
        slots = torch.tensor([committed + slot_of[i] for i in frontier])
        out, out_logits = draft.step(tokens, hidden_in, pos, slots, mask)
        for j, node in enumerate(frontier):
            parent_hidden[node] = out[j]
        child_logp = torch.log_softmax(out_logits.float(), dim=-1)
        top = torch.topk(child_logp, min(k, child_logp.shape[-1]), dim=-1)
        new = []
        for j, node in enumerate(frontier):
            for t, s in zip(top.indices[j].tolist(), top.values[j].tolist()):
                toks.append(t)
                scores.append(scores[node] + s)
                parents.append(node)
                depths.append(depths[node] + 1)
                new.append(len(toks) - 1)
        frontier = new
    # The best tree_size - 1 nodes; a child never outscores its parent (log-probs <= 0), and
    # ties go to the shallower node, so the selection is closed under ancestors.
    order = sorted(range(len(toks)), key=lambda i: (-scores[i], depths[i], i))[: cfg.tree_size - 1]
    chosen = set(order)
    for i in order:   # belt and braces against float ties
        p = parents[i]
        while p >= 0 and p not in chosen:
            chosen.add(p)
            p = parents[p]
    keep = sorted(chosen, key=lambda i: (depths[i], -scores[i], i))[: cfg.tree_size - 1]
    index = {node: n + 1 for n, node in enumerate(keep)}
    full = draft.to_full_ids(torch.tensor([toks[i] for i in keep], dtype=torch.long)).tolist() if keep else []
    return Tree(tokens=[root] + full,
                parents=[-1] + [index.get(parents[i], 0) for i in keep],
                depths=[0] + [depths[i] for i in keep],
                proposals=[None] * (len(keep) + 1))
