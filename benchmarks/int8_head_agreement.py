"""The int8 LM head with int8 activations (W8A8, what the kernels compute) against the same int8
weights with fp32 activations: top-1 agreement and KLD over the held-out text, on a quantized
checkpoint with an int8 table and tied head (default: the embedded tiny model, int4 g32).

    .venv/bin/python -m benchmarks.int8_head_agreement [--ckpt DIR] [--ctx 256] [--tokens 20000]

Both heads read the same final hidden states of the same model run; only the head differs.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F

from edgecpm.checkpoint.loader import load_model
from edgecpm.checkpoint.locate import resolve_model
from edgecpm.checkpoint.quantized import quantize_checkpoint
from edgecpm.quant.config import Int4Config
from edgecpm.quant.int8 import Int8Weight, dequantize_int8
from edgecpm.quant.linear import Int8Linear
from edgecpm.tiny.corpus import held_out_text
from edgecpm.tokenizer.tokenizer import load_tokenizer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ckpt", type=Path, help="a checkpoint quantized with --embeddings int8")
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--tokens", type=int, default=20000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = args.ckpt
        if ckpt is None:
            ckpt = Path(tmp) / "q"
            quantize_checkpoint(resolve_model("tiny"), ckpt, Int4Config(group_size=32, embeddings="int8"))
        model = load_model(ckpt, dtype=torch.float32, max_seq_len=args.ctx)
        ids = torch.tensor(load_tokenizer(ckpt).encode(held_out_text()))[: args.tokens + 1]
    head = model.lm_head
    if not isinstance(head, Int8Linear):
        raise SystemExit(f"{ckpt}: the LM head is {type(head).__name__}, not an int8 head (quantize with --embeddings int8)")
    w = dequantize_int8(Int8Weight(head.qweight, head.scales))
    agree = count = 0
    kld = 0.0
    with torch.no_grad():
        for s in range(0, ids.numel() - 1, args.ctx):
            x = ids[s:s + args.ctx].unsqueeze(0)
            hidden = model.hidden_states(x) / model.config.logit_divisor
            w8a8 = F.log_softmax(head(hidden)[0], -1)
            fp32 = F.log_softmax(F.linear(hidden, w)[0], -1)
            agree += (w8a8.argmax(-1) == fp32.argmax(-1)).sum().item()
            kld += (fp32.exp() * (fp32 - w8a8)).sum().item()
            count += x.shape[1]
    print(f"{args.ckpt or 'tiny, int4 g32 + int8 table and tied head'}: {count} held-out tokens, ctx {args.ctx}")
    print(f"W8A8 head vs int8 weights x fp32 activations: top-1 agreement {agree / count:.4%}, "
          f"mean KLD {kld / count:.2e}")


if __name__ == "__main__":
    main()
