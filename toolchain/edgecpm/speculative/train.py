"""Train an EAGLE draft head from the base model's own hidden states (``edgecpm train-draft``).

Teacher forcing on a text corpus: the frozen base model gives, per window, its final-normed
hidden states f_0..f_{T-1} and next-token distributions. The draft reads pairs (f_j, x_{j+1}) and
is trained to predict f_{j+1} (smooth-L1, EAGLE's regression loss) and the base's distribution
over x_{j+2} (soft cross-entropy, EAGLE's classification loss). ``unroll`` > 1 adds EAGLE-3's
training-time test: step r feeds the draft's own step r-1 predictions back as hidden states, with
an attention mask that shows each query exactly what it sees at tree depth r+1 during decoding
(true pairs up to j-r, then its own predicted path), so deeper drafts are trained too.

``python -m edgecpm.speculative.train tiny -o toolchain/edgecpm/assets/tiny-draft`` rebuilds the
committed draft for the embedded model (fixed seeds, fixed step count, single process).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

from edgecpm.errors import UsageError
from edgecpm.speculative.draft import EagleDraft, save_draft


def unroll_mask(length: int, steps: int) -> torch.Tensor:
    """[S*L, S*L] bool: query (s, j) sees key (0, i) for i <= j - s and key (r, j - s + r), 1 <= r <= s."""
    n = steps * length
    mask = torch.zeros(n, n, dtype=torch.bool)
    j = torch.arange(length)
    for s in range(steps):
        rows = s * length + j
        mask[rows.unsqueeze(1), j.unsqueeze(0)] = j.unsqueeze(0) <= (j - s).unsqueeze(1)
        for r in range(1, s + 1):
            i = j - s + r
            ok = i >= 0
            mask[rows[ok], r * length + i[ok]] = True
    return mask


def init_draft(draft: EagleDraft, base, seed: int) -> None:
    """The layer starts as a copy of the base's last layer (a hidden-state-to-hidden-state map
    already); fc starts near "pass the hidden state through", so step 0 predicts something sane."""
    g = torch.Generator().manual_seed(seed)
    draft.layer.load_state_dict({k: v for k, v in base.model.layers[-1].state_dict().items()})
    h = draft.config.hidden_size
    with torch.no_grad():
        w = torch.randn(h, 2 * h, generator=g) * (0.02 / math.sqrt(2))
        w[:, h:] += torch.eye(h)
        draft.fc.weight.copy_(w)
        draft.fc.bias.zero_()


def batches(ids: torch.Tensor, batch: int, seq: int, gen: torch.Generator):
    while True:
        starts = torch.randint(0, ids.numel() - seq, (batch,), generator=gen)
        yield torch.stack([ids[s:s + seq] for s in starts.tolist()])


def draft_loss(draft: EagleDraft, base, x: torch.Tensor, unroll: int, mask: torch.Tensor,
               cls_weight: float) -> tuple[torch.Tensor, dict]:
    with torch.no_grad():
        f = base.hidden_states(x)                                   # [B, T, h]
        p = torch.softmax(base.logits(f[:, 1:]), dim=-1)            # predicts x_2..x_T
        if draft.vocab_ids is not None:   # train the head over its FR-Spec rows only
            p = p[..., draft.vocab_ids]
            p = p / p.sum(-1, keepdim=True)
    b, t, _ = f.shape
    length = t - 1
    tokens = x[:, 1:]                                               # x_{j+1}, j = 0..T-2
    target = f[:, 1:]
    positions = torch.arange(length).repeat(unroll)
    hidden_steps = [f[:, :-1]]
    total, logs = 0.0, {}
    for s in range(unroll):
        n = (s + 1) * length
        out = draft.forward_masked(tokens.repeat(1, s + 1), torch.cat(hidden_steps, dim=1),
                                   positions[:n], mask[:n, :n])[:, s * length:]
        valid = slice(s, length)                                    # step s needs j >= s
        reg = F.smooth_l1_loss(out[:, valid], target[:, valid])
        logq = torch.log_softmax(draft.logits(out[:, valid]), dim=-1)
        cls = -(p[:, valid] * logq).sum(-1).mean()
        acc = (logq.argmax(-1) == p[:, valid].argmax(-1)).float().mean()
        total = total + reg + cls_weight * cls
        logs[f"reg{s}"], logs[f"cls{s}"], logs[f"top1_{s}"] = reg.item(), cls.item(), acc.item()
        # Next step's pair at j reads this step's prediction at j - 1.
        shifted = torch.cat([torch.zeros_like(out[:, :1]), out[:, :-1]], dim=1)
        hidden_steps.append(shifted)
    return total / unroll, logs


def train_draft(base, ids: torch.Tensor, steps: int = 300, batch: int = 8, seq: int = 128,
                lr: float = 3e-3, warmup: int = 20, unroll: int = 3, cls_weight: float = 0.5,
                seed: int = 0, train_vocab: int = 2048, log: Callable[[dict], None] | None = None) -> tuple[EagleDraft, list[dict]]:
    torch.manual_seed(seed)
    for p in base.parameters():
        p.requires_grad_(False)
    base.eval()
    draft = EagleDraft(base.config).bind(base)
    init_draft(draft, base, seed)
    if train_vocab and train_vocab < base.config.vocab_size:
        # The draft LM head is the base's, frozen: the loss needs only the rows that carry most
        # of the mass. Training over the corpus's most frequent ids costs a fraction of the full
        # vocabulary and teaches the same hidden-state map.
        from collections import Counter

        from edgecpm.speculative.frspec import top_ids

        freq = top_ids(Counter(ids.tolist()), train_vocab, base.config.vocab_size, base.config.eos_token_id)
        draft.set_vocab(freq.ids)
    draft.train()
    opt = torch.optim.AdamW(draft.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=0.0)
    data = batches(ids, batch, seq, torch.Generator().manual_seed(seed))
    mask = unroll_mask(seq - 1, unroll)
    history = []
    t0 = time.time()
    for step in range(steps):
        scale = (step + 1) / warmup if step < warmup else \
            0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))
        for g in opt.param_groups:
            g["lr"] = lr * scale
        loss, logs = draft_loss(draft, base, next(data), unroll, mask, cls_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(draft.parameters(), 1.0)
        opt.step()
        if step % 25 == 0 or step == steps - 1:
            entry = {"step": step, "loss": round(loss.item(), 4),
                     **{k: round(v, 4) for k, v in logs.items()}, "elapsed_s": round(time.time() - t0, 1)}
            history.append(entry)
            if log is not None:
                log(entry)
    draft.eval()
    draft.set_vocab(None)
    for p in base.parameters():
        p.requires_grad_(True)
    return draft, history


def held_out_prompts(ids: list[int], count: int, length: int, bos: int | None = None) -> list[list[int]]:
    """``count`` prompts of ``length`` tokens, evenly spaced over a held-out token stream."""
    stride = max(1, (len(ids) - length) // count)
    prefix = [bos] if bos is not None else []
    return [prefix + ids[i * stride:i * stride + length] for i in range(count)]


def mean_acceptance(model, draft, prompts: list[list[int]], n: int, spec) -> float:
    from edgecpm.runtime.eager import EagerBase
    from edgecpm.speculative.decode import speculative_generate

    steps = tokens = 0
    for prompt in prompts:
        r = speculative_generate(EagerBase(model), draft, prompt, n, spec=spec)
        steps += r.verify_steps
        tokens += sum(r.accepted_per_step)
    return tokens / steps if steps else 0.0


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="Train an EAGLE draft head for MODEL")
    ap.add_argument("model")
    ap.add_argument("-o", "--out", required=True, type=Path)
    ap.add_argument("--corpus", type=Path, default=None,
                    help="UTF-8 text (default: the embedded model's training split)")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--unroll", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args(argv)
    run(args.model, args.out, args.corpus, args.steps, args.batch, args.seq, args.lr, args.unroll,
        args.seed, args.threads, args.force, log=lambda e: print(json.dumps(e), flush=True))


def run(model_arg, out, corpus, steps, batch, seq, lr, unroll, seed, threads, force, log=print):
    from edgecpm.checkpoint.contents import load_config
    from edgecpm.checkpoint.loader import load_model
    from edgecpm.checkpoint.locate import resolve_model
    from edgecpm.speculative.tree import SpecConfig
    from edgecpm.tiny.corpus import split_text, stdlib_documents
    from edgecpm.tokenizer.tokenizer import load_tokenizer

    torch.set_num_threads(threads)
    model_dir = resolve_model(model_arg)
    cfg = load_config(model_dir)
    tok = load_tokenizer(model_dir, cfg.bos_token_id, cfg.eos_token_id)
    if corpus is None:
        train_text, held_text = split_text(stdlib_documents())
        source = "embedded corpus (CPython docstrings), training split"
    else:
        if not Path(corpus).is_file():
            raise UsageError(f"{corpus}: no such file")
        text = Path(corpus).read_text(encoding="utf-8")
        cut = int(len(text) * 0.95)
        train_text, held_text, source = text[:cut], text[cut:], str(corpus)
    ids = torch.tensor(tok.encode(train_text), dtype=torch.long)
    if ids.numel() <= seq:
        raise UsageError(f"the corpus has {ids.numel()} tokens; need more than --seq {seq}")
    base = load_model(model_dir, dtype=torch.float32, max_seq_len=max(seq, 256))
    t0 = time.time()
    draft, history = train_draft(base, ids, steps, batch, seq, lr, unroll=unroll, seed=seed, log=log)
    train_s = time.time() - t0
    prompts = held_out_prompts(tok.encode(held_text), 20, 32, cfg.bos_token_id)
    accept = {name: round(mean_acceptance(base, draft, prompts, 48, spec), 3)
              for name, spec in (("tree", SpecConfig()), ("chain", SpecConfig(mode="chain")))}
    log({"held_out_mean_accepted": accept})
    info = {"training": {"corpus": source, "train_tokens": ids.numel(), "steps": steps, "batch": batch,
                         "seq": seq, "lr": lr, "unroll": unroll, "seed": seed, "threads": threads,
                         "train_seconds": round(train_s, 1), "torch": torch.__version__,
                         "held_out_mean_accepted": accept,
                         "held_out_eval": "20 prompts of 32 held-out tokens, 48 greedy tokens each; "
                                          "tree 2/10/12, chain 3", "log": history}}
    save_draft(draft, out, extra=info, overwrite=force)
    return out, accept


if __name__ == "__main__":
    main()
