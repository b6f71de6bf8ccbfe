"""The format table and SQNR: what a CLI prints and what every quant test measures with."""

import math
import subprocess
import sys

import pytest
import torch

from edgecpm.errors import EdgecpmError, QuantError
from edgecpm.quant.formats import PackFormat, bits_per_weight, format_table, parse_format, render_table
from edgecpm.quant.metrics import sqnr_db


def test_bits_per_weight_match_llama_cpp():
    # llama.cpp's published sizes: TQ2_0 66 B / 256, TQ1_0 54 B / 256, Q4_0 18 B / 32.
    assert bits_per_weight(PackFormat.TQ2_0) == 2.0625
    assert bits_per_weight(PackFormat.TQ1_0) == 1.6875
    assert bits_per_weight(PackFormat.Q4_0) == 4.5
    assert bits_per_weight(PackFormat.Q8_0) == 8.5
    assert bits_per_weight(PackFormat.INT4_G, 128) == 4.125
    assert bits_per_weight(PackFormat.INT4_G, 32, symmetric=False) == 4 + 16 / 32 + 8 / 32
    with pytest.raises(QuantError, match="use one of"):
        bits_per_weight(PackFormat.INT4_G, 48)


def test_table_lists_every_format_and_documents_bytes():
    rows = format_table()
    assert [r[0] for r in rows] == [f.name for f in PackFormat]
    text = render_table()
    assert text.splitlines()[0].split()[:2] == ["name", "bits/weight"]
    assert "2.062" in text and "1.688" in text
    # the member docstrings are the byte spec (set at runtime, so help() and a CLI can show them)
    assert "66 bytes per block of 256" in PackFormat.TQ2_0.__doc__
    assert "54 bytes per block of 256" in PackFormat.TQ1_0.__doc__
    assert "18 bytes per block of 32" in PackFormat.Q4_0.__doc__
    assert "34 bytes per block of 32" in PackFormat.Q8_0.__doc__
    assert "low nibble" in PackFormat.INT4_G.__doc__


def test_parse_format():
    assert parse_format("tq1_0") is PackFormat.TQ1_0
    with pytest.raises(QuantError, match="TQ2_0"):
        parse_format("tq3")
    assert issubclass(QuantError, EdgecpmError)


def test_formats_module_does_not_import_torch():
    code = "import sys, edgecpm.quant.formats as f; f.render_table(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_sqnr_db():
    x = torch.tensor([3.0, 4.0])
    assert sqnr_db(x, x) == math.inf
    # noise power 1 vs signal power 25 → 10 log10(25) dB
    assert sqnr_db(x, x + torch.tensor([1.0, 0.0])) == pytest.approx(10 * math.log10(25))
    with pytest.raises(ValueError):
        sqnr_db(x, x[:1])
