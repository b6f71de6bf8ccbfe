"""ONNX export of float and int4 models, with the int4 op decomposed into standard ONNX (opset 18).

What it is for: running a MiniCPM4 checkpoint in onnxruntime or any ONNX toolchain — scoring,
prefill, interop. The graph is the cache-free forward ``tokens [1, T] -> logits [1, T, vocab]``
(dynamic T): ONNX has no mutable state, so the KV cache of the ExecuTorch program is not part of it.

The model's ``edgecpm::rms_norm`` and ``edgecpm::silu_mul`` become their few standard nodes, and
``edgecpm::int4_linear`` becomes plain ONNX nodes computing exactly its definition (ops.py):
int8 activations per 32 (ReduceMax, Round — half to even, as torch — Clip), nibble unpacking
(BitwiseAnd, BitShift), ``(nibble - zero) * scale``, MatMul. So the weights stay 4-bit in the
file, and the dequantization runs at inference: correct everywhere, not fast. Ternary and
quantized embeddings have no decomposition yet and are refused with a message.
"""

from __future__ import annotations

from pathlib import Path

import torch

from edgecpm.atomic import atomic_path, check_output_file
from edgecpm.errors import EdgecpmError
from edgecpm.quant.config import read_quant_config

OPSET = 18


def _int4_linear_onnx():
    from onnxscript import opset18 as op

    def int4_linear(x, qweight, scales, zeros, group_size: int):
        # Activations: int8 per 32 values (quant/act_quant.py), in fp32.
        blocks = op.Reshape(x, op.Constant(value_ints=[0, 0, -1, 32]))
        scale = op.Div(op.ReduceMax(op.Abs(blocks), op.Constant(value_ints=[-1]), keepdims=1),
                       op.Constant(value_float=127.0))
        zero_f = op.Constant(value_float=0.0)
        inv = op.Where(op.Greater(scale, zero_f), op.Div(op.Constant(value_float=1.0), scale), zero_f)
        q = op.Clip(op.Round(op.Mul(blocks, inv)), op.Constant(value_float=-127.0), op.Constant(value_float=127.0))
        xq = op.Reshape(op.Mul(q, scale), op.Shape(x))
        # Weights: byte i holds k = 2i (low nibble) and k = 2i + 1 (high nibble).
        lo = op.BitwiseAnd(qweight, op.Constant(value=_u8(15)))
        hi = op.BitShift(qweight, op.Constant(value=_u8(4)), direction="RIGHT")
        axis = op.Constant(value_ints=[-1])
        nibbles = op.Concat(op.Unsqueeze(lo, axis), op.Unsqueeze(hi, axis), axis=-1)   # [N, K/2, 2]
        n_groups = op.Shape(scales, start=1, end=2)
        grouped = op.Cast(op.Reshape(nibbles, op.Concat(op.Shape(qweight, start=0, end=1), n_groups,
                                                        op.Constant(value_ints=[-1]), axis=0)), to=1)
        if zeros is None:
            centred = op.Sub(grouped, op.Constant(value_float=8.0))
        else:
            centred = op.Sub(grouped, op.Unsqueeze(op.Cast(zeros, to=1), axis))
        w = op.Mul(centred, op.Unsqueeze(op.Cast(scales, to=1), axis))              # [N, K/g, g]
        w = op.Reshape(w, op.Concat(op.Shape(qweight, start=0, end=1), op.Constant(value_ints=[-1]), axis=0))
        return op.MatMul(xq, op.Transpose(w, perm=[1, 0]))

    return int4_linear


def _rms_norm_onnx():
    from onnxscript import opset18 as op

    def rms_norm(x, weight, eps: float):
        variance = op.ReduceMean(op.Mul(x, x), op.Constant(value_ints=[-1]), keepdims=1)
        inv = op.Reciprocal(op.Sqrt(op.Add(variance, op.Constant(value_float=eps))))
        return op.Mul(op.Mul(x, inv), weight)

    return rms_norm


def _silu_mul_onnx():
    from onnxscript import opset18 as op

    def silu_mul(gate, up):
        return op.Mul(op.Mul(gate, op.Sigmoid(gate)), up)

    return silu_mul


def _u8(v: int):
    import numpy as np
    import onnx

    return onnx.numpy_helper.from_array(np.array(v, dtype=np.uint8))


class _FullSequence(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, tokens):
        return self.model(tokens)


def export_onnx(model_dir: str | Path, out_path: str | Path, overwrite: bool = False, progress=None) -> Path:
    try:
        import onnxscript  # noqa: F401
    except ImportError:
        raise EdgecpmError("ONNX export needs onnx, onnxscript and onnxruntime: pip install 'edgecpm[onnx]'") from None
    import edgecpm.quant.ops  # noqa: F401  registers torch.ops.edgecpm.*
    from edgecpm.checkpoint.loader import load_model

    check_output_file(out_path, overwrite, "model.onnx")  # before loading a single tensor
    model_dir, out_path = Path(model_dir), Path(out_path)
    qc = read_quant_config(model_dir)
    if qc is not None and (qc[0].scheme != "int4" or qc[0].embeddings != "fp"):
        raise EdgecpmError(f"{model_dir}: ONNX export handles float and int4 (fp embeddings) checkpoints; "
                           "ternary and quantized embeddings have no ONNX decomposition yet — use --format pte")
    say = progress or (lambda _msg: None)
    say(f"loading {model_dir}")
    model = load_model(model_dir, dtype=torch.float32, max_seq_len=64)
    seq = torch.export.Dim("seq", min=2, max=model.config.max_position_embeddings)
    say("torch.onnx.export (dynamo)")
    program = torch.onnx.export(
        _FullSequence(model).eval(), (torch.tensor([[model.config.bos_token_id, 2]]),), dynamo=True,
        dynamic_shapes=({1: seq},), opset_version=OPSET, input_names=["tokens"], output_names=["logits"],
        custom_translation_table={torch.ops.edgecpm.int4_linear.default: _int4_linear_onnx(),
                                  torch.ops.edgecpm.rms_norm.default: _rms_norm_onnx(),
                                  torch.ops.edgecpm.silu_mul.default: _silu_mul_onnx()})
    say("writing")
    # The exporter writes by path: a temp sibling, renamed onto the target when complete.
    with atomic_path(out_path, overwrite, "model.onnx") as tmp:
        program.save(str(tmp), external_data=False)  # one self-contained file
    return out_path
