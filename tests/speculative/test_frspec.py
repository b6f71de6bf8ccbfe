"""FR-Spec id lists: most frequent first, EOS always in, the file format, the real tokenizer."""

from __future__ import annotations

from collections import Counter

import pytest
import torch
from typer.testing import CliRunner

from edgecpm.cli.app import app
from edgecpm.errors import CheckpointError, UsageError
from edgecpm.speculative.frspec import load_frspec, save_frspec, top_ids

TEXT = ("The quick brown fox jumps over the lazy dog. " * 20
        + "Return the number of items in a container. Raise ValueError if the argument is negative.\n") * 5


def test_most_frequent_first_with_eos_forced_in():
    counts = Counter({10: 50, 11: 40, 12: 30, 13: 20, 14: 10})
    freq = top_ids(counts, 3, vocab_size=20, keep=[2])
    assert freq.ids.tolist() == [10, 11, 2]           # EOS (never seen) takes the last place
    assert freq.counts.tolist() == [50, 40, 0]
    assert freq.coverage == pytest.approx(90 / 150)
    # An EOS that is frequent anyway is not duplicated; ties go to the lower id.
    assert top_ids(Counter({2: 9, 5: 1, 4: 1}), 3, 10, keep=[2]).ids.tolist() == [2, 4, 5]
    with pytest.raises(UsageError, match="smaller than the 2 EOS ids"):
        top_ids(counts, 1, 20, keep=[2, 3])
    with pytest.raises(UsageError, match="--size 30"):
        top_ids(counts, 30, 20)


def test_file_round_trip_and_checks(tmp_path):
    freq = top_ids(Counter({1: 3, 7: 2}), 4, vocab_size=8, keep=[2])
    path = save_frspec(freq, tmp_path / "f.safetensors")
    back = load_frspec(path, vocab_size=8)
    assert torch.equal(back.ids, freq.ids) and back.vocab_size == 8
    with pytest.raises(CheckpointError, match="made for a 8-token vocabulary"):
        load_frspec(path, vocab_size=96)
    with pytest.raises(CheckpointError, match="no such FR-Spec file"):
        load_frspec(tmp_path / "missing.safetensors")


def test_cli_on_the_embedded_model(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT)
    out = tmp_path / "tiny-frspec.safetensors"
    r = CliRunner().invoke(app, ["frspec", "tiny", "--corpus", str(corpus), "--size", "64", "-o", str(out)])
    assert r.exit_code == 0, r.output
    freq = load_frspec(out, vocab_size=8192)
    assert freq.ids.numel() == 64 and 2 in freq.ids.tolist()
    assert freq.coverage == pytest.approx(1.0)   # 64 ids cover this small corpus


def test_real_minicpm4_tokenizer(minicpm4_tokenizer_dir, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT + "中文和English混合，还有数字 12345。\n")
    out = tmp_path / "frspec.safetensors"
    r = CliRunner().invoke(app, ["frspec", str(minicpm4_tokenizer_dir), "--corpus", str(corpus),
                                 "--size", "8192", "-o", str(out)])
    assert r.exit_code == 0, r.output
    freq = load_frspec(out, vocab_size=73448)
    ids = freq.ids.tolist()
    assert len(ids) == len(set(ids)) == 8192 and max(ids) < 73448
    assert 2 in ids and 73440 in ids                  # both MiniCPM4 EOS ids, though unseen
    assert freq.counts[0] > 0 and freq.coverage == pytest.approx(1.0)
