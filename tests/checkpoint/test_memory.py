"""Loading materialises each weight once: the meta-device build plus per-tensor assignment keeps
peak memory near the size of the weights, not twice it (what lets an 8B load on a 24 GB machine)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from edgecpm.model.config import MiniCPMConfig
from tests.conftest import make_checkpoint

PROBE = """
import resource, sys, torch
from edgecpm.checkpoint.loader import load_model
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
model = load_model(sys.argv[1], max_seq_len=16)
model(torch.tensor([[1, 2, 3]]))  # touch every weight
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((peak - base) * 1024)
"""


@pytest.mark.slow
def test_peak_memory_is_about_one_copy_of_the_weights(tmp_path):
    cfg = MiniCPMConfig(vocab_size=32768, hidden_size=512, intermediate_size=1536, num_hidden_layers=4,
                        num_attention_heads=8, num_key_value_heads=2, max_position_embeddings=64,
                        tie_word_embeddings=False, eos_token_id=[2]).validate()
    path = make_checkpoint(tmp_path / "m", cfg, dtype=torch.float32)
    weights = cfg.num_parameters * 4
    out = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, check=True)
    growth = int(out.stdout.strip().splitlines()[-1])
    assert growth < 1.4 * weights, f"peak grew {growth / 2**20:.0f} MiB for {weights / 2**20:.0f} MiB of weights"


QUANTIZE_PROBE = """
import resource, sys
import edgecpm.checkpoint.quantized as q
from edgecpm.quant.config import Int4Config
import torch  # noqa: F401  (imported before the baseline, like the quantizer's own imports)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
q.quantize_checkpoint(sys.argv[1], sys.argv[2], Int4Config(group_size=32))
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024)
"""


@pytest.mark.slow
def test_quantize_streams_instead_of_loading_the_model(tmp_path):
    cfg = MiniCPMConfig(vocab_size=4096, hidden_size=512, intermediate_size=1536, num_hidden_layers=8,
                        num_attention_heads=8, num_key_value_heads=2, max_position_embeddings=64,
                        eos_token_id=[2]).validate()
    path = make_checkpoint(tmp_path / "m", cfg, dtype=torch.float32)
    weights = cfg.num_parameters * 4  # ~105 MB, of which the int4 output is ~1/7
    out = subprocess.run([sys.executable, "-c", QUANTIZE_PROBE, str(path), str(tmp_path / "q")],
                         capture_output=True, text=True, check=True)
    growth = int(out.stdout.strip().splitlines()[-1])
    # Streaming holds one source tensor (3 MB here), its temporaries and the small output shard;
    # loading the model first would cost the whole 105 MB.
    assert growth < 0.4 * weights, f"peak grew {growth / 2**20:.0f} MiB for {weights / 2**20:.0f} MiB of weights"
