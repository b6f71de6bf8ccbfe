"""Every implementation of an ``edgecpm::`` op that exists on this machine, behind one call.

- ``reference``: the op's Python body (``torch.ops.edgecpm.NAME`` on CPU tensors), in fp32: the
  truth the eager model and the export trace run.
- ``cpp-ISA``: the C++ kernel of ``libedgecpm_kernels.so``, as a one-op ExecuTorch program, for
  each instruction set this CPU runs (scalar, avx2, avx512vnni, ...). The aarch64 tables (neon,
  dotprod, i8mm) are checked by ``edgecpm_kernel_check`` under qemu (tests/kernels/).
- ``triton``: the Triton kernel beside the op, on CUDA tensors when a GPU is here, else in
  Triton's interpreter on CPU tensors (TRITON_INTERPRET, set by tests/conftest.py only without
  CUDA). Ops with no Triton kernel have no ``triton`` case.

Each is compared with a float64 *definition* of the op (``tolerance.py``), so the reference is
itself under test: it computes in fp32 like the kernels.
"""

from __future__ import annotations

import importlib
import importlib.util
import platform
from dataclasses import dataclass, field

import torch
from torch import nn

import edgecpm.attention.ops  # noqa: F401  defines edgecpm::infllm_attention and infllm_tree_attention
import edgecpm.quant.ops  # noqa: F401  defines the quantized linears and embeddings

# op -> (module, function) of its Triton kernel; the function takes the op's arguments.
TRITON_KERNELS = {
    "ternary_linear": ("edgecpm.quant.triton_linear", "ternary_linear"),
    "int4_linear": ("edgecpm.quant.triton_linear", "int4_linear"),
    "infllm_attention": ("edgecpm.attention.triton_infllm", "infllm_attention"),
}


@dataclass(eq=False)
class OpCalls:
    """One op applied to several argument tuples (in the op's schema order) that differ only at the
    positions in ``varying``; the others (weights, integers) are the same object in every call.
    ``dynamic`` maps a varying position to its dimension whose size differs between calls."""

    op: str
    calls: list[tuple]
    varying: tuple[int, ...] = (0,)
    dynamic: dict[int, int] = field(default_factory=lambda: {0: 1})


class OneOp(nn.Module):
    """The op with its constant arguments baked in (tensors as buffers, as a model's weights are)."""

    def __init__(self, calls: OpCalls):
        super().__init__()
        self.op = getattr(torch.ops.edgecpm, calls.op)
        self.varying = calls.varying
        self.arity = len(calls.calls[0])
        self.plain = {}  # position -> an int or None argument
        for i, a in enumerate(calls.calls[0]):
            if i in calls.varying:
                continue
            if isinstance(a, torch.Tensor):
                self.register_buffer(f"arg{i}", a, persistent=False)
            else:
                self.plain[i] = a

    def forward(self, *inputs):
        given = dict(zip(self.varying, inputs))
        return self.op(*(given[i] if i in given else self.plain[i] if i in self.plain else getattr(self, f"arg{i}")
                         for i in range(self.arity)))


class Implementation:
    name: str

    def unsupported(self, calls: OpCalls) -> str | None:
        """Why this implementation cannot run ``calls`` (the test is skipped with it), or None."""
        return None

    def run(self, calls: OpCalls) -> list[torch.Tensor]:
        raise NotImplementedError


class Reference(Implementation):
    name = "reference"

    def run(self, calls: OpCalls) -> list[torch.Tensor]:
        op = getattr(torch.ops.edgecpm, calls.op)
        return [op(*args) for args in calls.calls]


class Cpp(Implementation):
    """One ISA of the C++ kernels. Programs are lowered once per ``OpCalls`` and shared by the ISAs."""

    _programs: dict[int, tuple] = {}  # id(OpCalls) -> (calls kept alive, program, method)

    def __init__(self, isa: str):
        self.isa = isa
        self.name = f"cpp-{isa}"

    def unsupported(self, calls: OpCalls) -> str | None:
        from edgecpm.runtime.kernel_library import load_library

        have = load_library().edgecpm_kernels_available().decode().split(",")  # names `make kernels` if missing
        return None if self.isa in have else f"this CPU does not run the {self.isa} kernels (it runs {', '.join(have)})"

    def run(self, calls: OpCalls) -> list[torch.Tensor]:
        from edgecpm.runtime.kernel_library import load_library, set_kernel_isa

        lib = load_library()
        method = self.method(calls)
        best = lib.edgecpm_kernels_isa().decode()
        set_kernel_isa(self.isa, lib)
        try:
            return [method.execute([args[i] for i in calls.varying])[0] for args in calls.calls]
        finally:
            set_kernel_isa(best, lib)

    @classmethod
    def method(cls, calls: OpCalls):
        if id(calls) not in cls._programs:
            from executorch.exir import to_edge_transform_and_lower
            from executorch.runtime import Runtime

            largest = max(calls.calls, key=lambda args: args[calls.varying[0]].numel())
            example = tuple(largest[i] for i in calls.varying)
            dims = None
            if calls.dynamic:
                size = torch.export.Dim("size", min=1, max=64)
                # one entry: forward's *inputs, itself a tuple of per-input specs
                dims = (tuple({calls.dynamic[i]: size} if i in calls.dynamic else None for i in calls.varying),)
            ep = torch.export.export(OneOp(calls), example, dynamic_shapes=dims, strict=False)
            program = Runtime.get().load_program(to_edge_transform_and_lower(ep).to_executorch().buffer)
            # the method borrows the program's memory: keep both (and the calls, so the id stays theirs)
            cls._programs[id(calls)] = (calls, program, program.load_method("forward"))
        return cls._programs[id(calls)][2]


class Triton(Implementation):
    name = "triton"

    def __init__(self):
        self.device = "cuda" if torch.cuda.is_available() else "cpu"

    def unsupported(self, calls: OpCalls) -> str | None:
        if calls.op not in TRITON_KERNELS:
            return f"edgecpm::{calls.op} has no Triton kernel (on a GPU it runs its torch reference)"
        if importlib.util.find_spec("triton") is None:
            return "triton is not installed (it comes with the dev extras)"
        if calls.op == "ternary_linear" and calls.calls[0][3] != 0:
            return "the Triton ternary kernel reads TQ2_0 only (TQ1_0 is refused: test_triton_refuses_tq1)"
        return None

    def kernel(self, op: str):
        module, function = TRITON_KERNELS[op]
        return getattr(importlib.import_module(module), function)

    def run(self, calls: OpCalls) -> list[torch.Tensor]:
        kernel = self.kernel(calls.op)
        on_device = [tuple(a.to(self.device) if isinstance(a, torch.Tensor) else a for a in args)
                     for args in calls.calls]
        return [kernel(*args).cpu() for args in on_device]


# The C++ kernels' instruction-set tables, by machine. Listed here rather than asked of the library:
# loading it imports ExecuTorch, which imports Triton, and that must wait for the session's
# TRITON_INTERPRET choice (tests/conftest.py). A table this CPU lacks is a skip that names it.
CPP_ISAS = {"x86_64": ("scalar", "avx2", "avx512vnni"),
            "aarch64": ("scalar", "neon", "neon-dotprod", "neon-i8mm")}


def available() -> list[Implementation]:
    """The reference, the C++ kernels per ISA of this machine's architecture, Triton."""
    return [Reference(), *(Cpp(isa) for isa in CPP_ISAS.get(platform.machine(), ("scalar",))), Triton()]
