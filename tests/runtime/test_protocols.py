"""Every backend provides the whole of the contract its callers are typed against, so no caller
needs to ask an object what it has (``hasattr``), and none does."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch

from edgecpm.checkpoint.loader import load_model
from edgecpm.checkpoint.locate import resolve_model
from edgecpm.runtime import protocols
from edgecpm.runtime.cuda import OnDevice
from edgecpm.runtime.eager import EagerBase
from edgecpm.runtime.pte import PteModel
from edgecpm.runtime.spec_program import PteSpecBase, PteSpecDraft
from edgecpm.speculative.draft import load_draft, resolve_draft

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "toolchain" / "edgecpm"


def members(protocol) -> set[str]:
    methods = {n for n, v in vars(protocol).items() if callable(v) and (not n.startswith("_") or n == "__call__")}
    return set(protocol.__annotations__) | methods


def missing(obj, protocol) -> set[str]:
    return {m for m in members(protocol) if not hasattr(obj, m)}


@pytest.fixture(scope="module")
def tiny():
    return load_model(resolve_model("tiny"), max_seq_len=32)


def test_the_protocols_name_what_callers_use():
    assert members(protocols.CausalLM) == {"config", "max_seq_len", "reset_caches", "__call__"}
    assert members(protocols.SpeculativeBase) == {"config", "max_seq_len", "reset_caches", "verify",
                                                  "compact_caches"}


def test_eager_and_cuda_runners_are_causal_lms(tiny):
    assert missing(tiny, protocols.CausalLM) == set()
    assert missing(OnDevice(tiny, "cpu"), protocols.CausalLM) == set()


def test_eager_speculative_sides(tiny):
    assert missing(EagerBase(tiny), protocols.SpeculativeBase) == set()
    draft = load_draft(resolve_draft("tiny-draft"), tiny.config).bind(tiny)
    assert missing(draft, protocols.SpeculativeDraft) == set()


def test_program_backends_define_every_method():
    # Their data members come from a loaded bundle (the export tests load one); the methods are
    # checked on the classes, which needs no program.
    for cls, protocol in ((PteModel, protocols.CausalLM), (PteSpecBase, protocols.SpeculativeBase),
                          (PteSpecDraft, protocols.SpeculativeDraft)):
        methods = {m for m in members(protocol) if callable(getattr(protocol, m, None))}
        assert {m for m in methods if not hasattr(cls, m)} == set(), cls


def test_a_missing_method_is_seen():
    class Half:
        config, max_seq_len = None, 1

        def __call__(self, tokens, input_pos):
            return torch.zeros(1)

    assert missing(Half(), protocols.CausalLM) == {"reset_caches"}


def test_no_hasattr_dispatch_in_the_package():
    calls = [f"{path.relative_to(PACKAGE_DIR)}:{node.lineno}"
             for path in sorted(PACKAGE_DIR.rglob("*.py"))
             for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "hasattr"]
    assert calls == [], f"hasattr dispatch (use a runtime.protocols type or isinstance): {calls}"
