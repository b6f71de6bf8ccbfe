"""Train the embedded default model: ``python -m edgecpm.tiny.train -o DIR`` (``make tiny-model``).

Reproducible: fixed seeds, a fixed number of steps, a corpus rebuilt from the interpreter's own
standard library (see ``corpus.py``), single-process. What it writes, in the Hugging Face layout:
``config.json``, ``model.safetensors``, ``tokenizer.json`` and ``training.json`` (the corpus
fingerprint, the hyper-parameters, the loss curve and the held-out perplexity).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from edgecpm.checkpoint.writer import state_dict_items, write_checkpoint
from edgecpm.eval.perplexity import perplexity
from edgecpm.model.minicpm import MiniCPMForCausalLM
from edgecpm.model.presets import preset
from edgecpm.tiny.bpe import train_bpe
from edgecpm.tiny.corpus import corpus_fingerprint, split_text, stdlib_documents


def init_weights(model: MiniCPMForCausalLM) -> None:
    """MiniCPM's muP-style init: std σ for embeddings, σ / sqrt(width / dim_model_base) for matrices."""
    cfg = model.config
    std = cfg.initializer_range
    hidden_std = std / math.sqrt(cfg.hidden_size / cfg.dim_model_base)
    for name, p in model.named_parameters():
        if name.endswith("layernorm.weight") or name == "model.norm.weight":
            torch.nn.init.ones_(p)
        elif "embed_tokens" in name:
            torch.nn.init.normal_(p, 0.0, std)
        else:
            torch.nn.init.normal_(p, 0.0, hidden_std)


def batches(ids: torch.Tensor, batch: int, seq: int, gen: torch.Generator):
    while True:
        starts = torch.randint(0, ids.numel() - seq - 1, (batch,), generator=gen)
        x = torch.stack([ids[s:s + seq + 1] for s in starts.tolist()])
        yield x[:, :-1], x[:, 1:]


def lr_at(step: int, total: int, peak: float, warmup: int) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def train_loop(model, train_ids: torch.Tensor, held_ids: torch.Tensor, args) -> list[dict]:
    """AdamW with warmup + cosine decay; logs loss every 25 steps and held-out PPL every eval_every.

    ``args`` carries steps, batch, seq, lr, warmup, seed, eval_every (the CLI namespace).
    """
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    data = batches(train_ids, args.batch, args.seq, torch.Generator().manual_seed(args.seed))
    model.train()
    log = []
    t_train = time.time()
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
        x, y = next(data)
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 25 == 0 or step == args.steps - 1:
            entry = {"step": step, "loss": round(loss.item(), 4),
                     "elapsed_s": round(time.time() - t_train, 1)}
            if (step % args.eval_every == 0 and step) or step == args.steps - 1:
                entry["held_out_ppl"] = round(perplexity(model, held_ids, args.seq).ppl, 2)
            log.append(entry)
            print(json.dumps(entry), flush=True)
    model.eval()
    return log


def training_args(description: str, **defaults) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("-o", "--out", required=True, type=Path)
    ap.add_argument("--steps", type=int, default=defaults.get("steps", 800))
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--lr", type=float, default=defaults.get("lr", 2e-3))
    ap.add_argument("--warmup", type=int, default=defaults.get("warmup", 100))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--force", action="store_true")
    return ap


def hyperparameters(args) -> dict:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k not in ("out", "force")}


def main(argv=None) -> None:
    args = training_args(__doc__.splitlines()[0]).parse_args(argv)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    cfg = preset("tiny")
    t0 = time.time()
    train_text, held_text = split_text(stdlib_documents())
    fingerprint = corpus_fingerprint(train_text, held_text)
    tok_path = args.out.parent / f".{args.out.name}.tokenizer.json"
    train_bpe(train_text, cfg.vocab_size, tok_path)
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(tok_path))
    train_ids = torch.tensor(tok.encode(train_text).ids, dtype=torch.long)
    held_ids = torch.tensor(tok.encode(held_text).ids, dtype=torch.long)
    print(f"corpus: {len(train_text):,} chars → {train_ids.numel():,} train tokens, "
          f"{held_ids.numel():,} held-out tokens ({time.time() - t0:.0f}s)", flush=True)

    model = MiniCPMForCausalLM(cfg)
    init_weights(model)
    model.setup_caches(max_seq_len=args.seq)
    t_train = time.time()
    log = train_loop(model, train_ids, held_ids, args)
    final_ppl = log[-1]["held_out_ppl"]
    report = {
        "corpus": fingerprint,
        "config": "preset tiny",
        "parameters": sum(p.numel() for p in model.parameters()),
        "hyperparameters": hyperparameters(args),
        "train_tokens": train_ids.numel(),
        "held_out_tokens": held_ids.numel(),
        "held_out_ppl": final_ppl,
        "train_seconds": round(time.time() - t_train, 1),
        "torch": torch.__version__,
        "log": log,
    }
    write_checkpoint(
        args.out, cfg, state_dict_items(model), overwrite=args.force,
        extra_files={"tokenizer.json": tok_path.read_bytes(),
                     "training.json": (json.dumps(report, indent=1) + "\n").encode()},
    )
    tok_path.unlink()
    print(f"wrote {args.out} (held-out ppl {final_ppl})")


if __name__ == "__main__":
    main()
