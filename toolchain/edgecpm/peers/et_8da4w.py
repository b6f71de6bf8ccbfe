"""ExecuTorch's 8da4w XNNPACK export of the float weights a checkpoint was quantized from, timed in a
process of its own (``et_8da4w_worker``).

The weights are the same tensors, renamed to export_llm's Llama (``tok_embeddings``,
``layers.N.attention.wq`` ...; q and k rows reordered from HF's half-split rotary layout to Meta's
interleaved one; a tied head copied into ``output``). export_llm's Llama has no place for
MiniCPM's muP scalings or LongRoPE, so its text is not MiniCPM's: what is compared is the speed
of the same shapes and weights, not its output.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from edgecpm.errors import EdgecpmError
from edgecpm.peers.cache import peer_dir


def llama_params(cfg) -> dict:
    params = {"dim": cfg.hidden_size, "n_layers": cfg.num_hidden_layers, "n_heads": cfg.num_attention_heads,
              "n_kv_heads": cfg.num_key_value_heads, "hidden_dim": cfg.intermediate_size,
              "vocab_size": cfg.vocab_size, "norm_eps": cfg.rms_norm_eps, "rope_theta": cfg.rope_theta}
    if cfg.head_dim != cfg.hidden_size // cfg.num_attention_heads:
        params["head_dim"] = cfg.head_dim
    return params


def interleaved_rope_rows(rows: int, n_heads: int):
    """Row order that turns HF's half-split rotary layout (q_proj, k_proj) into Meta's interleaved one."""
    import torch

    return torch.arange(rows).reshape(n_heads, 2, rows // n_heads // 2).swapaxes(1, 2).reshape(rows)


def llama_state(model_dir: Path, cfg) -> dict:
    """The float checkpoint's tensors under export_llm's Llama names, fp32."""
    from safetensors.torch import load_file

    hf = {}
    for f in sorted(model_dir.glob("*.safetensors")):
        hf.update(load_file(f))
    out = {"tok_embeddings.weight": hf["model.embed_tokens.weight"], "norm.weight": hf["model.norm.weight"],
           "output.weight": hf.get("lm_head.weight", hf["model.embed_tokens.weight"])}
    names = {"self_attn.q_proj": "attention.wq", "self_attn.k_proj": "attention.wk", "self_attn.v_proj": "attention.wv",
             "self_attn.o_proj": "attention.wo", "mlp.gate_proj": "feed_forward.w1", "mlp.down_proj": "feed_forward.w2",
             "mlp.up_proj": "feed_forward.w3", "input_layernorm": "attention_norm",
             "post_attention_layernorm": "ffn_norm"}
    for i in range(cfg.num_hidden_layers):
        for hf_name, name in names.items():
            w = hf[f"model.layers.{i}.{hf_name}.weight"]
            if hf_name in ("self_attn.q_proj", "self_attn.k_proj"):
                heads = cfg.num_attention_heads if hf_name.endswith("q_proj") else cfg.num_key_value_heads
                w = w[interleaved_rope_rows(w.shape[0], heads)]
            out[f"layers.{i}.{name}.weight"] = w
    return {k: v.float().contiguous() for k, v in out.items()}


def export_8da4w(float_dir: Path, cfg, max_context: int, progress=print) -> Path:
    """The cached 8da4w program of ``float_dir`` for ``max_context`` positions, exported if missing."""
    import torch

    folder = peer_dir("export-llm", float_dir)
    pte = folder / f"model-ctx{max_context}.pte"
    if pte.is_file():
        return pte
    progress(f"exporting {float_dir} with ExecuTorch's export_llm, 8da4w + XNNPACK -> {pte} "
             "(once per checkpoint; 15-20 minutes at 0.5B on 2 cores)")
    # export_llm takes a checkpoint whose path mentions "int8" or "8da4w" for a pre-quantized one
    # (examples/models/llama/model.py): the float weights go to a scratch folder of a plain name.
    with tempfile.TemporaryDirectory(prefix="edgecpm-llama-weights-", dir=_plain_tmp(folder)) as scratch:
        params, checkpoint = Path(scratch) / "params.json", Path(scratch) / "weights.pth"
        params.write_text(json.dumps(llama_params(cfg)))
        torch.save(llama_state(float_dir, cfg), checkpoint)
        res = subprocess.run([sys.executable, "-m", "edgecpm.peers.et_8da4w_worker", "export", str(params),
                              str(checkpoint), "--max-context", str(max_context), "-o", str(pte)],
                             cwd=scratch, capture_output=True, text=True)
    if res.returncode != 0 or not pte.is_file():
        pte.unlink(missing_ok=True)
        raise EdgecpmError(f"ExecuTorch's export_llm failed on {float_dir} (et-8da4w peer): "
                           f"{_last_error(res.stderr)}")
    return pte


def _last_error(stderr: str) -> str:
    """The exception line of a child's traceback (torch appends hints after it), else its last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[\w.]+(Error|Exception)\b", line)]
    return (errors or lines or ["no message"])[-1]


def _plain_tmp(near: Path) -> str:
    """A folder for scratch files whose path has none of the words export_llm reads."""
    for candidate in (tempfile.gettempdir(), str(near), "/tmp"):
        if "int8" not in candidate and "8da4w" not in candidate:
            return candidate
    raise EdgecpmError(f"no scratch folder without 'int8' or '8da4w' in its path for export_llm (TMPDIR="
                       f"{tempfile.gettempdir()}); set TMPDIR to another folder")


def time_8da4w(pte: Path, prompt: list[int], n: int) -> dict:
    """One run; ExecuTorch's Python runtime uses its default thread pool (one thread per core)."""
    res = subprocess.run([sys.executable, "-m", "edgecpm.peers.et_8da4w_worker", "time", str(pte),
                          "--prompt-ids", ",".join(map(str, prompt)), "-n", str(n)], capture_output=True, text=True)
    if res.returncode != 0:
        raise EdgecpmError(f"the et-8da4w peer failed on {pte}: {_last_error(res.stderr)}")
    return json.loads(res.stdout.strip().splitlines()[-1])
