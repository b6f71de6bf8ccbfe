"""MiniCPM4 configuration: read from a Hugging Face ``config.json``, or picked by preset name.

Every field of MINICPM4.md §1 is here, so a config survives a load → save round trip unchanged in
meaning. ``sparse_config`` (8B only; None when absent) switches on InfLLM-v2 attention.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from edgecpm.attention.sparse_config import SparseConfig
from edgecpm.errors import ConfigError

# The architectures the official MiniCPM (1/2/4) modeling file serves. MiniCPM3 uses the same
# class name but multi-head latent attention, which it announces with `q_lora_rank`.
_MINICPM_ARCHITECTURES = {"MiniCPMForCausalLM"}
_MLA_FIELDS = ("q_lora_rank", "kv_lora_rank", "qk_nope_head_dim")


@dataclass
class RopeScaling:
    """LongRoPE: per-frequency divisors, switched on the sequence length (MINICPM4.md §2)."""

    short_factor: list[float]
    long_factor: list[float]
    original_max_position_embeddings: int
    rope_type: str = "longrope"


@dataclass
class MiniCPMConfig:
    vocab_size: int = 73448
    hidden_size: int = 1024
    intermediate_size: int = 4096
    num_hidden_layers: int = 24
    num_attention_heads: int = 16
    num_key_value_heads: int = 2
    max_position_embeddings: int = 32768
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    rope_scaling: RopeScaling | None = None
    scale_emb: float = 12.0
    dim_model_base: int = 256
    scale_depth: float = 1.4
    tie_word_embeddings: bool = True
    bos_token_id: int = 1
    eos_token_id: list[int] = field(default_factory=lambda: [2, 73440])
    pad_token_id: int | None = 2
    initializer_range: float = 0.1
    torch_dtype: str = "bfloat16"
    sparse_config: SparseConfig | None = None
    hidden_act: str = "silu"

    # ---- derived quantities (never stored) ----
    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    @property
    def residual_scale(self) -> float:
        """Multiplier on each block's output before it joins the residual stream."""
        return self.scale_depth / math.sqrt(self.num_hidden_layers)

    @property
    def logit_divisor(self) -> float:
        """The final hidden state is divided by this before the LM head (muP width scaling)."""
        return self.hidden_size / self.dim_model_base

    @property
    def num_parameters(self) -> int:
        h, i, v = self.hidden_size, self.intermediate_size, self.vocab_size
        kv = self.num_key_value_heads * self.head_dim
        per_layer = 2 * h * h + 2 * h * kv + 3 * h * i + 2 * h
        head = 0 if self.tie_word_embeddings else v * h
        return v * h + self.num_hidden_layers * per_layer + h + head

    def validate(self, source: str = "config") -> "MiniCPMConfig":
        def bad(msg: str) -> ConfigError:
            return ConfigError(f"{source}: {msg}")

        if self.hidden_size % self.num_attention_heads:
            raise bad(
                f"hidden_size {self.hidden_size} is not a multiple of "
                f"num_attention_heads {self.num_attention_heads}"
            )
        if self.num_attention_heads % self.num_key_value_heads:
            raise bad(
                f"num_attention_heads {self.num_attention_heads} is not a multiple of "
                f"num_key_value_heads {self.num_key_value_heads} (GQA groups must be whole)"
            )
        if self.head_dim % 2:
            raise bad(f"head_dim {self.head_dim} must be even for rotary embeddings")
        if self.hidden_act != "silu":
            raise bad(f"hidden_act {self.hidden_act!r} is not supported (MiniCPM4 uses 'silu')")
        if self.sparse_config is not None:
            for msg in self.sparse_config.problems():
                raise bad(msg)
        if self.rope_scaling is not None:
            half = self.head_dim // 2
            for name in ("short_factor", "long_factor"):
                got = len(getattr(self.rope_scaling, name))
                if got != half:
                    raise bad(f"rope_scaling.{name} has {got} entries, expected head_dim/2 = {half}")
        return self

    # ---- Hugging Face config.json ----
    @classmethod
    def from_hf_dict(cls, raw: dict[str, Any], source: str = "config.json") -> "MiniCPMConfig":
        archs = set(raw.get("architectures") or [])
        model_type = raw.get("model_type")
        if not (archs & _MINICPM_ARCHITECTURES or model_type == "minicpm"):
            raise ConfigError(
                f"{source}: not a MiniCPM4 config (architectures={sorted(archs) or None}, "
                f"model_type={model_type!r}); expected architectures ['MiniCPMForCausalLM']"
            )
        mla = [k for k in _MLA_FIELDS if raw.get(k) is not None]
        if mla:
            raise ConfigError(
                f"{source}: has {', '.join(mla)}: this is a MiniCPM3 (multi-head latent attention) "
                "config, which edgecpm does not support; use a MiniCPM4 checkpoint"
            )
        missing = [k for k in ("hidden_size", "num_hidden_layers", "num_attention_heads",
                               "vocab_size", "scale_emb", "dim_model_base", "scale_depth")
                   if k not in raw]
        if missing:
            raise ConfigError(f"{source}: missing required MiniCPM4 field(s): {', '.join(missing)}")

        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in raw.items() if k in known}
        kwargs.setdefault("num_key_value_heads", raw["num_attention_heads"])
        eos = kwargs.get("eos_token_id", [2])
        kwargs["eos_token_id"] = list(eos) if isinstance(eos, (list, tuple)) else [eos]
        if raw.get("rope_scaling"):
            rs = raw["rope_scaling"]
            rope_type = rs.get("rope_type", rs.get("type"))
            if rope_type != "longrope":
                raise ConfigError(f"{source}: rope_scaling type {rope_type!r} is not supported "
                                  "(MiniCPM4 uses 'longrope')")
            try:
                kwargs["rope_scaling"] = RopeScaling(
                    short_factor=[float(x) for x in rs["short_factor"]],
                    long_factor=[float(x) for x in rs["long_factor"]],
                    original_max_position_embeddings=int(rs["original_max_position_embeddings"]),
                )
            except KeyError as e:
                raise ConfigError(f"{source}: rope_scaling lacks {e.args[0]!r}") from None
            except (TypeError, ValueError) as e:
                raise ConfigError(f"{source}: rope_scaling holds a value that is not a number ({e})") from None
        if raw.get("sparse_config"):
            sc = raw["sparse_config"]
            if not isinstance(sc, dict):
                raise ConfigError(f"{source}: sparse_config must be an object, got {sc!r}")
            sc_known = {f.name for f in fields(SparseConfig)}
            kwargs["sparse_config"] = SparseConfig(**{k: v for k, v in sc.items() if k in sc_known})
        try:
            cfg = cls(**kwargs)
        except TypeError as e:
            raise ConfigError(f"{source}: {e}") from None
        return cfg.validate(source)

    @classmethod
    def from_json_file(cls, path: str | Path) -> "MiniCPMConfig":
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: no such file; a MiniCPM4 model directory needs config.json")
        try:
            raw = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"{path}: not valid JSON ({e})") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: expected a JSON object")
        return cls.from_hf_dict(raw, source=str(path))

    def to_hf_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d = {k: v for k, v in d.items() if v is not None}
        d["architectures"] = ["MiniCPMForCausalLM"]
        d["model_type"] = "minicpm"
        if self.rope_scaling is not None:
            d["rope_scaling"] = asdict(self.rope_scaling)
        return d
