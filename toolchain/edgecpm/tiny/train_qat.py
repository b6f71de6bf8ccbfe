"""Train the tiny model's BitCPM-style ternary twin: ``python -m edgecpm.tiny.train_qat -o DIR``.

Starts from the embedded fp model, makes every decoder-block linear a ``FakeTernaryLinear``
(absmean per group of 256 along the input dim, straight-through gradients), continues training
on the same corpus, then freezes the weights to ``trit × scale`` and writes the whole model in
bf16 — the form of a released BitCPM4 checkpoint. Group 256 is the TQ2_0/TQ1_0 block, so the
packed twin is plain llama.cpp bytes. The held-out perplexity in ``training.json`` is measured on
the checkpoint as written (bf16 embeddings included), not on the training-time model.
"""

from __future__ import annotations

import json
import time

import torch

from edgecpm.checkpoint.loader import load_model
from edgecpm.checkpoint.locate import resolve_model
from edgecpm.checkpoint.writer import state_dict_items, write_checkpoint
from edgecpm.eval.perplexity import perplexity
from edgecpm.model.minicpm import is_block_linear
from edgecpm.quant.qat import freeze_qat_, prepare_qat_
from edgecpm.tiny.corpus import corpus_fingerprint, split_text, stdlib_documents
from edgecpm.tiny.train import hyperparameters, train_loop, training_args
from edgecpm.tokenizer.tokenizer import load_tokenizer

GROUP_SIZE = 256


def main(argv=None) -> None:
    ap = training_args(__doc__.splitlines()[0], steps=300, lr=1e-3, warmup=30)
    ap.add_argument("--base", default="tiny", help="the fp model to start from")
    args = ap.parse_args(argv)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)

    base_dir = resolve_model(args.base)
    model = load_model(base_dir, dtype=torch.float32, max_seq_len=args.seq)
    for p in model.parameters():
        p.requires_grad_(True)
    tok = load_tokenizer(base_dir)
    train_text, held_text = split_text(stdlib_documents())
    train_ids = torch.tensor(tok.encode(train_text), dtype=torch.long)
    held_ids = torch.tensor(tok.encode(held_text), dtype=torch.long)
    fp_ppl = perplexity(model, held_ids, args.seq).ppl

    converted = prepare_qat_(model, GROUP_SIZE, include=is_block_linear)
    ptq_ppl = perplexity(model, held_ids, args.seq).ppl
    print(f"{len(converted)} linears fake-ternary; held-out PPL fp {fp_ppl:.2f}, "
          f"ternary before QAT {ptq_ppl:.2f}", flush=True)
    t0 = time.time()
    log = train_loop(model, train_ids, held_ids, args)
    freeze_qat_(model)

    cfg = model.config
    cfg.torch_dtype = "bfloat16"
    tensors = ((n, t.to(torch.bfloat16)) for n, t in state_dict_items(model))
    report = {
        "corpus": corpus_fingerprint(train_text, held_text),
        "base": str(base_dir.name),
        "qat": {"scheme": "ternary absmean + STE", "group_size": GROUP_SIZE, "linears": len(converted),
                "scale": "bf16-rounded (exact in fp16)"},
        "hyperparameters": hyperparameters(args),
        "held_out_ppl_fp_base": round(fp_ppl, 2),
        "held_out_ppl_ternary_before_qat": round(ptq_ppl, 2),
        "train_seconds": round(time.time() - t0, 1),
        "torch": torch.__version__,
        "log": log,
    }
    extra = {"tokenizer.json": (base_dir / "tokenizer.json").read_bytes()}
    write_checkpoint(args.out, cfg, tensors, extra_files=extra, overwrite=args.force)

    # The number that counts is the written checkpoint's.
    written = load_model(args.out, dtype=torch.float32, max_seq_len=args.seq)
    report["held_out_ppl"] = round(perplexity(written, held_ids, args.seq).ppl, 2)
    (args.out / "training.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.out} (held-out ppl {report['held_out_ppl']})")


if __name__ == "__main__":
    main()
