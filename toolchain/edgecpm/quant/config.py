"""Quantization schemes as config dataclasses, serialised as a versioned ``quant_config.json``.

One dataclass per workflow (torchao's habit). The JSON carries ``format_version``: a reader
refuses a newer version with a message saying to upgrade edgecpm, rather than misreading bytes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from edgecpm.errors import QuantError
from edgecpm.quant.formats import INT4_GROUP_SIZES, TERNARY_GROUP_SIZES, PackFormat

FORMAT_VERSION = 1
QUANT_CONFIG_NAME = "quant_config.json"


EMBEDDING_CHOICES = ("fp", "int8", "int4")


def _check_embeddings(value: str) -> None:
    if value not in EMBEDDING_CHOICES:
        raise QuantError(f"embeddings {value!r}: choose one of {', '.join(EMBEDDING_CHOICES)}")


@dataclass
class TernaryConfig:
    """BitCPM ternary for the decoder-block linears.

    ``group_size``: the scale groups along the input dim (32/64/128/256), or 0 for per-channel;
    the packed bytes have exactly these groups (``quant.ternary.ternary_at_group_size``). 256,
    the default, is the TQ layouts' own block: one fp16 scale per block, plain llama.cpp bytes;
    smaller groups keep their scales in a side tensor.
    ``layout``: the packed bytes, ``tq2_0`` (2.0625 bpw) or ``tq1_0`` (1.6875 bpw).
    ``detect``: if a weight is already ternary (a fake-quantised BitCPM checkpoint), pack its
    exact values instead of re-quantizing it.
    ``embeddings``: the embedding table and LM head: ``fp`` (kept), ``int8`` or ``int4``.
    """

    group_size: int = 256
    layout: str = "tq2_0"
    detect: bool = True
    embeddings: str = "fp"
    scheme: str = field(default="ternary", init=False)

    def validate(self) -> "TernaryConfig":
        _check_embeddings(self.embeddings)
        if self.group_size not in (0, *TERNARY_GROUP_SIZES):
            raise QuantError(f"ternary group size {self.group_size}: choose one of "
                             f"{', '.join(map(str, TERNARY_GROUP_SIZES))} or 0 (per-channel)")
        if self.layout not in ("tq2_0", "tq1_0"):
            raise QuantError(f"ternary layout {self.layout!r}: choose tq2_0 or tq1_0")
        return self

    @property
    def pack_format(self) -> PackFormat:
        return PackFormat[self.layout.upper()]


@dataclass
class Int4Config:
    """Group-wise int4 for the decoder-block linears, by round-to-nearest or GPTQ.

    ``skip_first``: GPTQ drops this many leading positions of each calibration sequence from
    the Hessian (MiniCPM4's P-GPTQ uses 4: attention sinks make their activations atypical).
    """

    group_size: int = 128
    symmetric: bool = True
    method: str = "rtn"
    skip_first: int = 0
    calib_sequences: int = 64
    calib_seq_len: int = 256
    damp: float = 0.01
    embeddings: str = "fp"
    scheme: str = field(default="int4", init=False)

    def validate(self) -> "Int4Config":
        _check_embeddings(self.embeddings)
        if self.group_size not in INT4_GROUP_SIZES:
            raise QuantError(f"int4 group size {self.group_size}: choose one of "
                             f"{', '.join(map(str, INT4_GROUP_SIZES))}")
        if self.method not in ("rtn", "gptq"):
            raise QuantError(f"int4 method {self.method!r}: choose rtn or gptq")
        return self


QuantConfig = TernaryConfig | Int4Config


def config_to_dict(cfg: QuantConfig, extra: dict | None = None) -> dict:
    d = {"format_version": FORMAT_VERSION, **asdict(cfg)}
    if extra:
        d.update(extra)
    return d


def config_from_dict(raw: dict, source: str = QUANT_CONFIG_NAME) -> QuantConfig:
    version = raw.get("format_version")
    if not isinstance(version, int):
        raise QuantError(f"{source}: no format_version; not an edgecpm quant_config.json")
    if version > FORMAT_VERSION:
        raise QuantError(f"{source}: format version {version} is newer than this edgecpm understands "
                         f"({FORMAT_VERSION}); upgrade edgecpm, or re-run `edgecpm quantize` with this one")
    scheme = raw.get("scheme")
    cls = {"ternary": TernaryConfig, "int4": Int4Config}.get(scheme)
    if cls is None:
        raise QuantError(f"{source}: unknown scheme {scheme!r} (expected ternary or int4)")
    fields_ = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__ and k != "scheme"}
    try:
        return cls(**fields_).validate()
    except TypeError as e:
        raise QuantError(f"{source}: {e}") from None


def read_quant_config(model_dir: str | Path) -> tuple[QuantConfig, dict] | None:
    """(config, the raw JSON) of a quantized checkpoint, or None for a float one."""
    path = Path(model_dir) / QUANT_CONFIG_NAME
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise QuantError(f"{path}: not valid JSON ({e}); re-run `edgecpm quantize`") from None
    return config_from_dict(raw, str(path)), raw
