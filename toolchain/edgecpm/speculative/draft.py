"""The EAGLE draft head of MINICPM4.md §6, its files, and the weight names of other checkpoints.

    e = rmsnorm1(embed(token) * scale_emb)           # the base model's embedding table
    x = rmsnorm2(hidden)                             # the base model's final-normed hidden state
    h = fc([e ; x])                                  # 2h -> h, with bias
    h = DecoderLayer(h)                              # residual scale scale_depth / sqrt(L + 1)
    hidden' = base.norm(h);  logits = base.lm_head(hidden' / (hidden / dim_model_base))

The draft reads pair ``(hidden_j, token_{j+1})`` at rope position ``j`` and predicts
``hidden_{j+1}`` (fed back as the next pair's hidden when drafting further) and ``token_{j+2}``.
Only rmsnorm1, rmsnorm2, fc and the layer belong to the draft; the embedding, final norm and LM
head are the base model's (shared, never saved). With FR-Spec the LM head uses only the rows of
``vocab_ids`` and draft ids are mapped back to the full vocabulary.

On disk (``DRAFT_DIR``): ``draft.safetensors`` (the draft's own tensors, native names below) and
``draft.json`` (format, version, the base shapes it was made for, the file's sha256).

Native names and the names accepted from EAGLE / CPM.cu-style checkpoints (``load_draft`` maps
them; anything else is an error naming the file and the keys):

| native                   | also accepted                                                      |
| ------------------------ | ------------------------------------------------------------------ |
| ``norm_embed.weight``    | ``input_norm1.weight``, ``norm1.weight``, ``enorm.weight``, ``embed_norm.weight`` |
| ``norm_hidden.weight``   | ``input_norm2.weight``, ``norm2.weight``, ``hnorm.weight``, ``hidden_norm.weight`` |
| ``fc.weight/bias``       | ``fc.weight/bias`` (EAGLE), ``model.fc.*``                          |
| ``layer.<rest>``         | ``layers.0.<rest>`` (EAGLE), ``model.layers.0.<rest>``, ``midlayer.<rest>`` |
| (dropped: shared)        | ``embed_tokens.weight``, ``model.embed_tokens.weight``, ``lm_head.weight``, ``norm.weight``, ``model.norm.weight`` |

``<rest>`` is the Llama layer naming (``self_attn.q_proj.weight``, ``mlp.gate_proj.weight``,
``input_layernorm.weight`` …). The CPM.cu norm names are unconfirmed (MINICPM4.md gives the
math, not the file): the aliases cover the spellings in use; a checkpoint with others fails
loudly rather than loading half. EAGLE-1 Llama heads omit ``layers.0.input_layernorm``; such a
file is reported as missing that key (§6's layer has it).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from edgecpm.embedded import DRAFTS
from edgecpm.errors import CheckpointError
from edgecpm.model.config import MiniCPMConfig
from edgecpm.model.minicpm import DecoderLayer, KVCache, RMSNorm, cache_mask
from edgecpm.quant.linear import Int4Linear, Int8Linear

FORMAT = "edgecpm-eagle-draft"
VERSION = 1
WEIGHTS = "draft.safetensors"
CONFIG = "draft.json"
_HINT = "train one with `edgecpm train-draft MODEL --corpus FILE -o DIR`"
# Base-config fields the draft's shapes depend on: a mismatch means another base model.
_SHAPE_FIELDS = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                 "num_attention_heads", "num_key_value_heads")

_PREFIX_ALIASES = [("layers.0.", "layer."), ("model.layers.0.", "layer."), ("midlayer.", "layer."),
                   ("model.fc.", "fc.")]
_NAME_ALIASES = {
    **{k: "norm_embed.weight" for k in ("input_norm1.weight", "norm1.weight", "enorm.weight",
                                         "embed_norm.weight")},
    **{k: "norm_hidden.weight" for k in ("input_norm2.weight", "norm2.weight", "hnorm.weight",
                                          "hidden_norm.weight")},
}
_SHARED = {"embed_tokens.weight", "model.embed_tokens.weight", "lm_head.weight", "norm.weight",
           "model.norm.weight"}


def native_name(name: str) -> str | None:
    """The native name of a checkpoint tensor, or None for a shared tensor we drop."""
    if name in _SHARED:
        return None
    if name in _NAME_ALIASES:
        return _NAME_ALIASES[name]
    for prefix, repl in _PREFIX_ALIASES:
        if name.startswith(prefix):
            return repl + name[len(prefix):]
    return name


class EagleDraft(nn.Module):
    def __init__(self, cfg: MiniCPMConfig):
        super().__init__()
        h = cfg.hidden_size
        self.config = cfg
        self.norm_embed = RMSNorm(h, cfg.rms_norm_eps)
        self.norm_hidden = RMSNorm(h, cfg.rms_norm_eps)
        self.fc = nn.Linear(2 * h, h, bias=True)
        self.layer = DecoderLayer(cfg, residual_scale=cfg.scale_depth / math.sqrt(cfg.num_hidden_layers + 1))
        self.vocab_ids: torch.Tensor | None = None   # FR-Spec subset (full-vocabulary ids), or None
        self._head_rows: torch.Tensor | None = None
        self._head_subset: nn.Module | None = None     # FR-Spec rows of a quantized head
        self._base: list = []                         # the base model, kept out of state_dict

    # ---- binding to the base model ----
    def bind(self, base) -> "EagleDraft":
        """Share the base's embedding, final norm, LM head and rope tables; allocate the draft's
        one-layer KV cache at the base's ``max_seq_len``."""
        if base.max_seq_len == 0:
            raise RuntimeError("call base.setup_caches(max_seq_len) before binding a draft")
        self._base = [base]
        w = self.norm_embed.weight  # float even when the linears are quantized (draft_quant.py)
        self.layer.self_attn.kv_cache = KVCache(1, self.config.num_key_value_heads, base.max_seq_len,
                                                self.config.head_dim, w.dtype, w.device)
        self.set_vocab(self.vocab_ids)
        return self

    @property
    def base(self):
        if not self._base:
            raise RuntimeError("draft head not bound: call draft.bind(base_model) first")
        return self._base[0]

    def set_vocab(self, vocab_ids: torch.Tensor | None) -> None:
        """Restrict the draft's LM head to FR-Spec rows (``None``: the full vocabulary)."""
        self.vocab_ids = None if vocab_ids is None else torch.as_tensor(vocab_ids, dtype=torch.long)
        self._head_rows = None
        self._head_subset = None
        if self.vocab_ids is not None and self._base:
            head = self.base.lm_head
            weight = getattr(head, "weight", None)
            if isinstance(weight, torch.Tensor) and weight.is_floating_point():
                # A copy of the N rows: the point is to stream only those bytes per draft step.
                self._head_rows = weight.detach()[self.vocab_ids].contiguous()
            else:
                # A quantized head (int8 / int4 rows): the same rows, still quantized, so a draft
                # step streams N rows instead of the whole vocabulary and then dropping most.
                self._head_subset = head_rows_subset(head, self.vocab_ids)

    def reset_cache(self):
        self.layer.self_attn.kv_cache.k_cache.zero_()
        self.layer.self_attn.kv_cache.v_cache.zero_()

    # ---- forward ----
    def forward(self, tokens: torch.Tensor, hidden: torch.Tensor, input_pos: torch.Tensor | None = None,
                cache_pos: torch.Tensor | None = None, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
        """tokens [B, T], hidden [B, T, h] → the predicted next final-normed hidden [B, T, h].

        Without ``input_pos``: causal over the T pairs at positions 0..T-1, no cache (training).
        With it: the cache path, and as in the base model ``cache_pos``/``attn_mask`` place
        tree nodes in slots of their own under a tree mask.
        """
        base = self.base
        cfg = self.config
        e = self.norm_embed(base.model.embed_tokens(tokens) * cfg.scale_emb)
        x = self.norm_hidden(hidden)
        h = self.fc(torch.cat([e, x], dim=-1))
        t = tokens.shape[1]
        if input_pos is None:
            (cos, sin), mask, slots = base.rope.first(t), None, None
        else:
            cos, sin = base.rope.rows(input_pos)
            mask = cache_mask(input_pos, cache_pos, attn_mask, base.positions)
            slots = input_pos if cache_pos is None else cache_pos
        h = self.layer(h, cos, sin, slots, mask)
        return base.model.norm(h)

    def forward_masked(self, tokens: torch.Tensor, hidden: torch.Tensor, positions: torch.Tensor,
                       mask: torch.Tensor) -> torch.Tensor:
        """No cache: pairs at rope ``positions`` [T] under an explicit [T, T] bool ``mask``
        (training unrolls several draft steps in one sequence this way)."""
        base = self.base
        e = self.norm_embed(base.model.embed_tokens(tokens) * self.config.scale_emb)
        h = self.fc(torch.cat([e, self.norm_hidden(hidden)], dim=-1))
        h = self.layer(h, *base.rope.rows(positions), None, mask)
        return base.model.norm(h)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Draft logits in fp32 over the draft vocabulary (``vocab_ids`` order under FR-Spec)."""
        base = self.base
        x = hidden / self.config.logit_divisor
        if self.vocab_ids is None:
            return base.lm_head(x).float()
        if self._head_rows is not None:
            return F.linear(x, self._head_rows).float()
        if self._head_subset is not None:
            return self._head_subset(x).float()
        return base.lm_head(x).float()[..., self.vocab_ids]   # a quantized head: no saving

    def to_full_ids(self, ids: torch.Tensor) -> torch.Tensor:
        return ids if self.vocab_ids is None else self.vocab_ids[ids]

    @property
    def max_seq_len(self) -> int:
        return self.base.max_seq_len

    def step(self, tokens: torch.Tensor, hidden: torch.Tensor, input_pos: torch.Tensor,
             cache_pos: torch.Tensor | None = None,
             attn_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """One drafting call on the cache path, as speculative decoding makes it (the exported
        ``draft`` method has the same contract): tokens [T], hidden [T, h] → (predicted hidden
        [T, h], draft logits [T, N])."""
        out = self(tokens.view(1, -1), hidden.unsqueeze(0), input_pos, cache_pos, attn_mask)[0]
        return out, self.logits(out)


def head_rows_subset(head: nn.Module, ids: torch.Tensor) -> nn.Module | None:
    """The rows ``ids`` of a quantized LM head as a head of their own (same values, same kernel),
    or None for a head kind without rows to pick (the caller then slices full logits)."""
    if isinstance(head, Int8Linear):
        return Int8Linear(head.qweight[ids].contiguous(), head.scales[ids].contiguous())
    if isinstance(head, Int4Linear):
        zeros = None if head.zeros is None else head.zeros[ids].contiguous()
        return Int4Linear(head.in_features, ids.numel(), head.qweight[ids].contiguous(),
                          head.scales[ids].contiguous(), zeros, head.group_size)
    return None


# ---- files ----


def resolve_draft(arg: str | Path) -> Path:
    """A path, or the name of an embedded draft head ('tiny-draft', for the embedded 'tiny')."""
    path = Path(arg)
    if path.exists():
        return path
    if str(arg) in DRAFTS:
        return DRAFTS[str(arg)]
    raise CheckpointError(f"{arg}: no such draft head (or embedded one: {', '.join(DRAFTS)}); {_HINT}")


def _base_shapes(cfg: MiniCPMConfig) -> dict:
    return {k: getattr(cfg, k) for k in _SHAPE_FIELDS}


def save_draft(draft: EagleDraft, out_dir: str | Path, extra: dict | None = None,
               overwrite: bool = False) -> Path:
    """Write ``draft.safetensors`` + ``draft.json`` into ``out_dir`` all-or-nothing."""
    from safetensors.torch import save_file

    from edgecpm.atomic import atomic_dir
    from edgecpm.checksum import file_sha256

    out_dir = Path(out_dir)
    tensors = {k: v.detach().contiguous() for k, v in draft.state_dict().items()}
    with atomic_dir(out_dir, overwrite=overwrite) as tmp:
        save_file(tensors, str(tmp / WEIGHTS), metadata={"format": FORMAT, "version": str(VERSION)})
        meta = {"format": FORMAT, "version": VERSION, "base": _base_shapes(draft.config),
                "residual_scale": draft.layer.residual_scale, "weights": WEIGHTS,
                "sha256": file_sha256(tmp / WEIGHTS), **(extra or {})}
        (tmp / CONFIG).write_text(json.dumps(meta, indent=1) + "\n")
    return out_dir


def _read_tensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except (SafetensorError, OSError) as e:
        raise CheckpointError(f"{path}: not a readable safetensors file ({e}); {_HINT}") from None


def map_state_dict(raw: dict[str, torch.Tensor], draft: EagleDraft, source: Path) -> dict[str, torch.Tensor]:
    """Rename a checkpoint's tensors to native names; on any mismatch raise with the file and keys."""
    mapped: dict[str, torch.Tensor] = {}
    for name, t in raw.items():
        native = native_name(name)
        if native is None:
            continue
        if native in mapped:
            raise CheckpointError(f"{source}: two tensors map to {native!r} (one is {name!r})")
        mapped[native] = t
    expected = draft.state_dict()
    missing = sorted(set(expected) - set(mapped))
    unexpected = sorted(set(mapped) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {missing}")
        if unexpected:
            parts.append(f"unexpected {unexpected}")
        raise CheckpointError(f"{source}: not an EAGLE draft head for this model: {'; '.join(parts)} "
                              "(names are mapped as documented in edgecpm/speculative/draft.py)")
    for name, t in mapped.items():
        if tuple(t.shape) != tuple(expected[name].shape):
            raise CheckpointError(f"{source}: {name} has shape {tuple(t.shape)}, expected "
                                  f"{tuple(expected[name].shape)} for this base model")
    return mapped


def load_draft(path: str | Path, base_cfg: MiniCPMConfig, dtype: torch.dtype | None = None) -> EagleDraft:
    """A draft head from a ``DRAFT_DIR`` of ours, or an EAGLE/CPM.cu-style safetensors file/dir."""
    path = Path(path)
    if path.is_dir():
        meta_path = path / CONFIG
        if meta_path.is_file():
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
            except ValueError as e:  # JSON and UTF-8 errors
                raise CheckpointError(f"{meta_path}: not valid JSON ({e}); {_HINT}") from None
            if not isinstance(meta, dict):
                raise CheckpointError(f"{meta_path}: not a JSON object; {_HINT}")
            if meta.get("format") != FORMAT or meta.get("version") != VERSION:
                raise CheckpointError(f"{meta_path}: format {meta.get('format')!r} v{meta.get('version')} "
                                      f"is not {FORMAT} v{VERSION}; {_HINT}")
            if meta.get("base") != _base_shapes(base_cfg):
                raise CheckpointError(f"{meta_path}: made for a base model with {meta.get('base')}, "
                                      f"not this one ({_base_shapes(base_cfg)}); {_HINT}")
            weights = path / meta.get("weights", WEIGHTS)
            from edgecpm.checksum import file_sha256

            if meta.get("sha256") and file_sha256(weights) != meta["sha256"]:
                raise CheckpointError(f"{weights}: sha256 does not match {meta_path} (corrupt or "
                                      f"replaced); {_HINT}")
        else:
            found = sorted(path.glob("*.safetensors"))
            if len(found) != 1:
                raise CheckpointError(f"{path}: expected {CONFIG} + {WEIGHTS}, or one EAGLE-style "
                                      f"*.safetensors file; found {[f.name for f in found]}")
            weights = found[0]
    elif path.is_file():
        weights = path
    else:
        raise CheckpointError(f"{path}: no such draft head; {_HINT}")
    draft = EagleDraft(base_cfg)
    mapped = map_state_dict(_read_tensors(weights), draft, weights)
    draft.load_state_dict(mapped)
    if dtype is not None:
        draft.to(dtype)
    return draft.eval()
