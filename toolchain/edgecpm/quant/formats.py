"""The pack formats edgecpm writes, with their exact byte layouts, as one self-documenting table.

Why a table: a user choosing a format wants "name, bits/weight, what it is" in ``--help`` (the
llama.cpp quant-type table habit), and a kernel author wants the bytes. Both come from here, so
they cannot drift. Torch-free on purpose: the CLI prints this without importing torch.

All multi-byte fields are little-endian (every target edgecpm runs on is little-endian).
"""

from __future__ import annotations

import enum

from edgecpm.errors import QuantError

TQ_BLOCK = 256
"""Weights per TQ1_0 / TQ2_0 block (llama.cpp's QK_K)."""

Q4_0_BLOCK = 32
"""Weights per llama.cpp Q4_0 block (QK4_0)."""

TQ2_0_BLOCK_BYTES = TQ_BLOCK // 4 + 2   # 64 bytes of 2-bit codes + fp16 d = 66
TQ1_0_BLOCK_BYTES = 48 + 4 + 2          # 48 bytes of 5-trit groups + 4 of 4-trit groups + fp16 d = 54
Q4_0_BLOCK_BYTES = 2 + Q4_0_BLOCK // 2  # fp16 d + 16 bytes of nibbles = 18
Q8_0_BLOCK_BYTES = 2 + 32               # fp16 d + 32 int8 = 34

INT4_GROUP_SIZES = (32, 64, 128)
TERNARY_GROUP_SIZES = (32, 64, 128, 256)  # or per-channel (group = the whole input row)


class PackFormat(enum.Enum):
    """A packed weight layout. Weights are ``[N, K]`` (out, in); blocks/groups run along K.

    Each member's ``__doc__`` (``PackFormat.TQ2_0.__doc__``, ``help()``) is its byte layout.
    """

    def __new__(cls, value: str, layout: str):
        member = object.__new__(cls)
        member._value_ = value
        member.__doc__ = layout
        return member

    TQ2_0 = ("tq2_0", """Ternary, llama.cpp TQ2_0: 2.0625 bits/weight, 66 bytes per block of 256 weights.

        Byte ``32*j + m`` (j in 0..1, m in 0..31) holds, in bits ``2l..2l+1`` (l in 0..3), the
        code ``trit + 1`` (in {0, 1, 2}) of weight ``128*j + 32*l + m`` of the block. Bytes
        64..65: the block scale ``d`` as fp16; weight = ``(code - 1) * d``. Unpacking is shift +
        mask; a SIMD dot takes the codes as u8 and subtracts the activation sum (the "+1").
        """)

    TQ1_0 = ("tq1_0", """Ternary, llama.cpp TQ1_0: 1.6875 bits/weight, 54 bytes per block of 256 weights.

        Five trits per byte (3^5 = 243 <= 256) stored as a base-3 *fraction*: for codes c0..c4
        (code = trit + 1, c0 most significant), ``v = 81*c0 + 27*c1 + 9*c2 + 3*c3 + c4`` and the
        byte is ``ceil(v * 256 / 243)``. Trit n is read back without division:
        ``((byte * 3^n) mod 256) * 3 >> 8``.
        Bytes 0..31: byte m holds weights ``32*n + m`` (n = 0..4; weights 0..159).
        Bytes 32..47: byte m holds weights ``160 + 16*n + m`` (n = 0..4; weights 160..239).
        Bytes 48..51: byte m holds weights ``240 + 4*n + m`` (n = 0..3, c4 = 0; weights 240..255).
        Bytes 52..53: the block scale ``d`` as fp16.
        """)

    INT4_G = ("int4_g", """Group-wise int4 for edgecpm's kernels, groups of 32/64/128 along K.

        ``qweight``: uint8 ``[N, K/2]`` row-major; byte ``[n, i]`` holds k = 2i in its low nibble
        and k = 2i + 1 in its high nibble. Nibbles are unsigned codes: symmetric stores ``q + 8``
        (q in [-8, 7], scale = the group's signed absmax / -8, the Q4_0 rule), asymmetric stores
        q in [0, 15] with an integer zero point. ``scales``: fp16 ``[N, K/group]``. ``zeros``:
        uint8 ``[N, K/group]``, one byte per group (asymmetric only). Weight =
        ``(nibble - zero) * scale``, with zero = 8 when symmetric.
        """)

    Q4_0 = ("q4_0", """llama.cpp Q4_0: 4.5 bits/weight, 18 bytes per block of 32 weights.

        Bytes 0..1: fp16 ``d`` (the block's signed absmax / -8). Bytes 2..17: byte ``2 + m``
        (m in 0..15) holds weight m in its low nibble and weight ``m + 16`` in its high nibble,
        each as ``q + 8``; weight = ``(nibble - 8) * d``.
        """)

    Q8_0 = ("q8_0", """llama.cpp Q8_0 (edgecpm: int8 embedding tables and LM heads): 8.5 bits/weight,
        34 bytes per block of 32 weights.

        Bytes 0..1: fp16 ``d`` (the block's absmax / 127); bytes 2..33: 32 int8 ``q``; weight =
        ``q * d``. In a quantized checkpoint the same values are two tensors, ``qweight`` int8
        ``[N, K]`` and ``scales`` fp16 ``[N, K/32]``; GGUF export joins them into these blocks.
        """)


def bits_per_weight(fmt: PackFormat, group_size: int = 128, symmetric: bool = True) -> float:
    """Storage cost including scales. ``group_size`` / ``symmetric`` only matter for INT4_G."""
    if fmt is PackFormat.TQ2_0:
        return TQ2_0_BLOCK_BYTES * 8 / TQ_BLOCK
    if fmt is PackFormat.TQ1_0:
        return TQ1_0_BLOCK_BYTES * 8 / TQ_BLOCK
    if fmt is PackFormat.Q4_0:
        return Q4_0_BLOCK_BYTES * 8 / Q4_0_BLOCK
    if fmt is PackFormat.Q8_0:
        return Q8_0_BLOCK_BYTES * 8 / 32
    if fmt is PackFormat.INT4_G:
        if group_size not in INT4_GROUP_SIZES:
            raise QuantError(f"int4 group size {group_size} is not supported: use one of {INT4_GROUP_SIZES}")
        return 4 + 16 / group_size + (0 if symmetric else 8 / group_size)
    raise QuantError(f"unknown pack format {fmt!r}")


_SUMMARY = {
    PackFormat.TQ2_0: "ternary, 2-bit codes in 256-blocks + fp16 scale (llama.cpp TQ2_0)",
    PackFormat.TQ1_0: "ternary, 5 trits/byte in 256-blocks + fp16 scale (llama.cpp TQ1_0)",
    PackFormat.INT4_G: "int4 group-wise (32/64/128) sym or asym, fp16 scales; edgecpm kernels",
    PackFormat.Q4_0: "int4 sym, 32-blocks + fp16 scale (llama.cpp Q4_0); --embeddings int4",
    PackFormat.Q8_0: "int8, 32-blocks + fp16 scale (llama.cpp Q8_0); --embeddings int8",
}


def format_table() -> list[tuple[str, str, str]]:
    """(name, bits/weight, description) per format, for a CLI to print."""
    rows = []
    for fmt in PackFormat:
        if fmt is PackFormat.INT4_G:
            bpw = f"{bits_per_weight(fmt, 128):.4g} (g128 sym)"
        else:
            bpw = f"{bits_per_weight(fmt):.4g}"
        rows.append((fmt.name, bpw, _SUMMARY[fmt]))
    return rows


def render_table() -> str:
    rows = [("name", "bits/weight", "description"), *format_table()]
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    return "\n".join(f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}" for a, b, c in rows)


def parse_format(name: str) -> PackFormat:
    """``"tq2_0"`` / ``"TQ2_0"`` → PackFormat.TQ2_0, with the list of choices on a typo."""
    try:
        return PackFormat[name.upper()]
    except KeyError:
        raise QuantError(
            f"unknown pack format {name!r}: choose one of {', '.join(f.name for f in PackFormat)}") from None
