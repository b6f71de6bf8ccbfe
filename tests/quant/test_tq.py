"""TQ2_0 / TQ1_0: byte codecs, byte equality with llama.cpp (gguf), and where scales go."""

import numpy as np
import pytest
import torch

from edgecpm.errors import QuantError
from edgecpm.quant.formats import PackFormat
from edgecpm.quant.pack_tq1 import pack_tq1_0, unpack_tq1_0
from edgecpm.quant.pack_tq2 import pack_tq2_0, unpack_tq2_0
from edgecpm.quant.ternary import dequantize_ternary, detect_ternary, quantize_ternary
from edgecpm.quant.tq import dequantize_tq, pack_ternary, unpack_ternary

CODECS = {"TQ2_0": (pack_tq2_0, unpack_tq2_0, 66), "TQ1_0": (pack_tq1_0, unpack_tq1_0, 54)}
TQ = [PackFormat.TQ2_0, PackFormat.TQ1_0]


def _trits_and_d(n, blocks, seed=0):
    g = torch.Generator().manual_seed(seed)
    trits = torch.randint(-1, 2, (n, 256 * blocks), generator=g, dtype=torch.int8)
    d = (torch.rand(n, blocks, generator=g) * 0.2 + 1e-3).to(torch.float16)
    trits[0, :256] = 0  # an all-zero block, and
    d[0, 0] = 0         # its absmax scale: llama.cpp writes d = 0 there
    return trits, d


@pytest.mark.parametrize("name", CODECS)
def test_codec_is_exact_inverse(name):
    pack, unpack, block_bytes = CODECS[name]
    trits, d = _trits_and_d(3, 2)  # odd N
    data = pack(trits, d)
    assert data.dtype == torch.uint8 and tuple(data.shape) == (3, 2 * block_bytes)
    t2, d2 = unpack(data)
    assert torch.equal(t2, trits) and torch.equal(d2.view(torch.int16), d.view(torch.int16))


def test_tq1_every_byte_value_round_trips():
    # All 3^5 five-trit groups (and all 3^4 tail groups), through the ceil-fraction encoding.
    codes = torch.cartesian_prod(*[torch.arange(3)] * 5)  # [243, 5], c0 most significant
    trits = torch.zeros(243, 256, dtype=torch.int8)
    for n in range(5):
        trits[:, 32 * n] = codes[:, n] - 1         # byte 0 of the 5-trit run
        trits[:, 160 + 16 * n] = codes[:, n] - 1   # byte 32 of the second run
    for n in range(4):
        trits[:, 240 + 4 * n] = codes[:, n] - 1    # byte 48, the 4-trit tail
    t2, _ = unpack_tq1_0(pack_tq1_0(trits, torch.ones(243, 1, dtype=torch.float16)))
    assert torch.equal(t2, trits)


@pytest.mark.parametrize("fmt", ["TQ2_0", "TQ1_0"])
def test_bytes_equal_llama_cpp_reference(fmt):
    gguf = pytest.importorskip("gguf")
    # llama.cpp's TQ quantizers take d = absmax per 256-block (not BitCPM's absmean); on weights
    # that are already trit * d with d an fp16 value, both must give the same trits and d.
    trits, d = _trits_and_d(3, 2, seed=1)
    x = trits.float() * d.float().repeat_interleave(256, dim=1)
    ref = gguf.quants.quantize(x.numpy(), getattr(gguf.GGMLQuantizationType, fmt))
    ours = CODECS[fmt][0](trits, d)
    assert np.array_equal(ours.numpy(), ref)
    # ... and through the ternary front door: detect → pack
    tw = detect_ternary(x)
    p = pack_ternary(tw, PackFormat[fmt])
    assert p.self_contained and np.array_equal(p.data.numpy(), ref)
    # ... and gguf decodes our bytes back to x
    assert np.array_equal(gguf.quants.dequantize(p.data.numpy(), getattr(gguf.GGMLQuantizationType, fmt)),
                          x.numpy())


def test_bad_shapes_raise_with_a_fix():
    trits, d = _trits_and_d(2, 1)
    for pack, _, _ in CODECS.values():
        with pytest.raises(QuantError, match=r"\(2, 128\).*pad K with zero columns to 256"):
            pack(trits[:, :128], d)
        with pytest.raises(QuantError, match="block scales"):
            pack(trits, d[:, :0])
        with pytest.raises(QuantError, match="-1, 0, 1"):
            pack(trits * 2, d)
    tw = quantize_ternary(torch.randn(4, 96), None)
    with pytest.raises(QuantError, match=r"\(4, 96\).*pad K"):
        pack_ternary(tw, PackFormat.TQ1_0)
    with pytest.raises(QuantError, match="not a ternary layout"):
        pack_ternary(tw, PackFormat.Q4_0)
    with pytest.raises(QuantError, match="uint8"):
        unpack_tq2_0(torch.zeros(2, 65, dtype=torch.uint8))
    with pytest.raises(QuantError, match="code 3"):
        unpack_tq2_0(torch.full((1, 66), 0xFF, dtype=torch.uint8))


@pytest.mark.parametrize("fmt", TQ)
@pytest.mark.parametrize("g, side", [(None, False), (256, False), (128, True), (32, True)])
def test_absmean_weights_pack_exactly(fmt, g, side):
    w = torch.randn(3, 512, generator=torch.Generator().manual_seed(2))
    tw = quantize_ternary(w, g)
    p = pack_ternary(tw, fmt)
    # groups of whole blocks with fp16 scales live in the blocks' d; smaller groups need a side tensor
    assert (p.side_scales is not None) == side
    back = unpack_ternary(p)
    assert torch.equal(back.trits, tw.trits) and torch.equal(back.scales, tw.scales)
    assert back.group_size == tw.group_size
    assert torch.equal(dequantize_tq(p), dequantize_ternary(tw))


@pytest.mark.parametrize("fmt", TQ)
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32])
@pytest.mark.parametrize("g", [32, 256, 512])
def test_fake_quant_checkpoint_packs_bit_exactly(fmt, dtype, g):
    # A BitCPM4-style tensor: round(W/s).clamp(-1, 1) * s, stored in dtype.
    n, k = 3, 512
    w = torch.randn(n, k, generator=torch.Generator().manual_seed(3))
    wg = w.reshape(n, k // g, g)
    s = wg.abs().mean(-1, keepdim=True).to(dtype)
    fake = (torch.round(wg / s.float()).clamp(-1, 1).to(dtype) * s).reshape(n, k) + 0  # no -0.0

    p = pack_ternary(detect_ternary(fake), fmt)
    back = dequantize_tq(p)
    bits = torch.int16 if dtype == torch.bfloat16 else torch.int32
    assert back.dtype == dtype and torch.equal(back.view(bits), fake.view(bits))
    # bf16 scales are fp16 values, so whole-block groups need no side tensor (GGUF-loadable);
    # fp32 absmean scales are not, and travel beside the bytes in fp32.
    assert p.self_contained == (dtype == torch.bfloat16 and g % 256 == 0)
