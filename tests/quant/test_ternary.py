"""BitCPM absmean ternary and exact recovery of fake-quantised (trit * scale) weights."""

import pytest
import torch

from edgecpm.errors import QuantError
from edgecpm.quant.metrics import sqnr_db
from edgecpm.quant.ternary import dequantize_ternary, detect_ternary, quantize_ternary, ternary_at_group_size


def _gauss(n, k, seed=0, dtype=torch.float32):
    return torch.randn(n, k, generator=torch.Generator().manual_seed(seed)).to(dtype)


def test_absmean_formula_by_hand():
    w = torch.tensor([[0.9, -0.1, 0.5, -2.0]])
    tw = quantize_ternary(w, group_size=None)
    s = torch.tensor(0.875, dtype=torch.float16)  # mean |w| = 3.5 / 4
    assert torch.equal(tw.scales, s.reshape(1, 1))
    # w / s = 1.03, -0.11, 0.57, -2.29 → round, clamp
    assert tw.trits.tolist() == [[1, 0, 1, -1]]
    assert tw.trits.dtype == torch.int8 and tw.per_channel


def test_eps_floor_for_zero_group():
    tw = quantize_ternary(torch.zeros(2, 32), group_size=32, eps=1e-5)
    assert bool((tw.scales > 0).all()) and not bool(tw.trits.any())


@pytest.mark.parametrize("g", [32, 128, None])
def test_absmean_sqnr_on_gaussian(g):
    # Theory for large groups: with s = E|x| = sqrt(2/pi) sigma, E[(x - s q)^2] integrates to
    # 0.263 sigma^2, i.e. 5.79 dB; small groups adapt a little (measured 5.94 dB at g32,
    # 5.82 at g128, 5.80 per-channel on 64x512). Ternary is lossy: the window is tight.
    w = _gauss(64, 512, seed=1)
    got = sqnr_db(w, dequantize_ternary(quantize_ternary(w, g)))
    assert 5.4 < got < 6.3


def test_bad_group_sizes_raise():
    with pytest.raises(QuantError, match=r"\(4, 96\).*multiple of group size 64"):
        quantize_ternary(torch.zeros(4, 96), 64)
    with pytest.raises(QuantError, match="not supported"):
        quantize_ternary(torch.zeros(4, 96), 48)
    with pytest.raises(QuantError, match="2-D"):
        quantize_ternary(torch.zeros(4, 8, 32), 32)


def _fake_quant(n, k, g, dtype, seed=0):
    """What a BitCPM QAT checkpoint holds: round(W/s).clamp * s, computed and stored in dtype."""
    w = _gauss(n, k, seed)
    wg = w.reshape(n, k // g, g)
    s = wg.abs().mean(-1, keepdim=True).to(dtype)
    q = torch.round(wg / s.float()).clamp(-1, 1)
    out = (q.to(dtype) * s).reshape(n, k)
    return out + 0  # -0.0 → +0.0, so bitwise comparison is meaningful (see sign-of-zero test)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32])
@pytest.mark.parametrize("g", [32, 128, 96])  # 96 = per-channel for K = 96
def test_detect_recovers_fake_quant_bit_exactly(dtype, g):
    w = _fake_quant(5, 96 if g == 96 else 256, g, dtype)
    tw = detect_ternary(w)
    assert tw is not None and tw.group_size == g and tw.dtype == dtype
    back = dequantize_ternary(tw)
    assert back.dtype == dtype
    assert torch.equal(back.view(torch.int16 if dtype == torch.bfloat16 else torch.int32),
                       w.view(torch.int16 if dtype == torch.bfloat16 else torch.int32))


def test_detected_scale_dtype():
    # bf16 scales of ordinary size are fp16 values (8 vs 11 significant bits): stored as fp16.
    assert detect_ternary(_fake_quant(4, 64, 32, torch.bfloat16)).scales.dtype == torch.float16
    # fp32 absmean scales are not: kept as fp32, or the round trip would not be exact.
    assert detect_ternary(_fake_quant(4, 64, 32, torch.float32)).scales.dtype == torch.float32
    # a bf16 scale below fp16's precision floor (2^-17) stays bf16.
    tiny = torch.tensor([[1.0, -1.0, 0.0, 1.0]], dtype=torch.bfloat16) * (2.0 ** -20 * (1 + 2.0 ** -7))
    tw = detect_ternary(tiny)
    assert tw.scales.dtype == torch.bfloat16 and torch.equal(dequantize_ternary(tw), tiny)


def test_detect_prefers_coarsest_grouping_and_rejects_non_ternary():
    w = _fake_quant(3, 256, 256, torch.bfloat16)
    assert detect_ternary(w).per_channel  # one scale per row fits a 256-wide row
    g32 = _fake_quant(3, 256, 32, torch.bfloat16)
    assert detect_ternary(g32).group_size == 32
    assert detect_ternary(g32, group_sizes=(256, 128)) is None
    noisy = g32.clone()
    noisy[1, 7] = noisy[1, 7] * 1.5 + 0.01  # a fourth value in one group
    assert detect_ternary(noisy) is None
    assert detect_ternary(_gauss(3, 64)) is None
    nan = g32.clone()
    nan[0, 0] = float("nan")
    assert detect_ternary(nan) is None


def test_sign_of_zero_is_not_kept():
    w = torch.tensor([[0.5, -0.0, -0.5, 0.0]], dtype=torch.bfloat16)
    back = dequantize_ternary(detect_ternary(w))
    assert torch.equal(back, w)  # equal as numbers ...
    assert not torch.equal(back.view(torch.int16), w.view(torch.int16))  # ... -0.0 became +0.0


# ---- the group size asked for is the group size stored ----

@pytest.mark.parametrize("g", [32, 64, 128, 256, None])
def test_float_weight_is_quantized_at_the_asked_group_size(g):
    w = _gauss(4, 512)
    tw = ternary_at_group_size(w, g)
    assert tw.group_size == (g or 512) and tw.scales.shape == (4, 512 // (g or 512))
    assert torch.equal(tw.trits, quantize_ternary(w, g).trits)


@pytest.mark.parametrize("g", [32, 64, 128, 256])
def test_already_ternary_weight_is_reexpressed_exactly_at_a_finer_group_size(g):
    w = _fake_quant(4, 512, 256, torch.bfloat16)
    tw = ternary_at_group_size(w, g)
    assert tw.group_size == g and tw.scales.shape == (4, 512 // g)
    assert torch.equal(dequantize_ternary(tw), w)  # the checkpoint's own values, not re-quantized


def test_already_ternary_weight_refuses_a_coarser_group_size():
    w = _fake_quant(4, 512, 256, torch.bfloat16)
    with pytest.raises(QuantError, match=r"already ternary .* group size 256; group size 0 \(per-channel\) "
                                         r"cannot hold its scales .*pass --group-size 256"):
        ternary_at_group_size(w, None)
    g64 = _fake_quant(4, 512, 64, torch.bfloat16)
    with pytest.raises(QuantError, match="group size 64; group size 128 .*--group-size 64"):
        ternary_at_group_size(g64, 128)
    # without detection it is plain absmean at the asked size
    assert ternary_at_group_size(g64, 128, detect=False).group_size == 128
