"""Train the embedded model's own byte-level BPE tokenizer (HF ``tokenizers``; writes tokenizer.json).

Special ids mirror MiniCPM4's: ``<s>`` = 1 (BOS), ``</s>`` = 2 (EOS); ``<pad>`` = 0 and the ChatML
markers follow, so the chat template works the same way as for the real tokenizer. Digits are
split one by one, as MiniCPM4's SentencePiece model does.
"""

from __future__ import annotations

from pathlib import Path

SPECIAL_TOKENS = ["<pad>", "<s>", "</s>", "<|im_end|>", "<|im_start|>"]


def train_bpe(text: str, vocab_size: int, out_path: Path) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, min_frequency=2,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    # Train on paragraphs so one long string does not become a single "sentence".
    tok.train_from_iterator(text.split("\n\n"), trainer=trainer)
    tok.save(str(out_path))
