"""Imports in ``edgecpm`` flow one way, top to bottom (ARCHITECTURE.md, "Dependency direction").

Every module's imports are read with ``ast`` (top level *and* inside functions: a lazy import is
still a dependency) and each ``edgecpm`` import is checked against ``LAYERS``: a module may import
a module of its own layer or of a lower one, never of a higher one; and the module graph has no
cycles (so two modules of one layer may import each other only one way).

Where the modules that ARCHITECTURE.md does not name sit, and why:

- ``kernels`` (Triton GPU reference kernels) is an op implementation, beside ``attention`` and
  ``quant`` whose ops it registers kernels for.
- ``tiny`` trains the embedded models (``tiny``, ``tiny-ternary``, ``tiny-draft``) and scores
  them with ``eval``: a tool at the level of ``generate``/``eval``/``bench``. Its corpus is data
  that lower layers read too (the draft trainer's and bench's held-out text), so ``tiny.corpus``
  is placed beside ``tokenizer``; it imports nothing of edgecpm.
- ``demo`` (the whole pipeline on the embedded model) and ``doctor`` (versions, kernels built)
  are commands' bodies that use every layer below: tools, like ``bench``.
- ``on_device`` (generate and bench on a remote device, through ``runtime.deploy``) is the
  device side of ``generate``/``bench``: a tool at their level.
- The package's own ``__init__`` is a utility (it holds the version).

A new top-level module or package must be given a layer here (``test_every_module_has_a_layer``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "toolchain" / "edgecpm"

# Module prefix -> layer rank; the longest matching prefix wins. Higher imports lower.
LAYERS = {
    "edgecpm.cli": 5,
    "edgecpm.generate": 4, "edgecpm.eval": 4, "edgecpm.bench": 4, "edgecpm.reproduce": 4,
    "edgecpm.bench_records": 4, "edgecpm.bench_timing": 4, "edgecpm.bench_plot": 4, "edgecpm.bench_depth": 4,
    "edgecpm.demo": 4, "edgecpm.doctor": 4, "edgecpm.tiny": 4, "edgecpm.on_device": 4, "edgecpm.peers": 4,
    "edgecpm.bench_spec": 4,
    "edgecpm.speculative": 3, "edgecpm.runtime": 3,
    "edgecpm.model": 2, "edgecpm.export": 2, "edgecpm.checkpoint": 2,
    "edgecpm.attention": 1, "edgecpm.quant": 1, "edgecpm.tokenizer": 1,
    "edgecpm.tiny.corpus": 1,
    "edgecpm": 0, "edgecpm.errors": 0, "edgecpm.atomic": 0, "edgecpm.checksum": 0, "edgecpm.quiet": 0,
    "edgecpm.torch_env": 0, "edgecpm.embedded": 0,
}


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        rank = LAYERS.get(".".join(parts[:n]))
        if rank is not None:
            return rank
    return None


def package_sources(root: Path = PACKAGE_DIR) -> dict[str, str]:
    """Module name -> source text, for every module of the package."""
    sources = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        sources[".".join(parts)] = path.read_text()
    return sources


def imported_modules(module: str, source: str, known: set[str]) -> set[str]:
    """The edgecpm modules ``module`` imports anywhere in its source. ``from a.b import c`` is
    module ``a.b.c`` when that is a module, else ``a.b``. Relative imports are resolved."""
    # Relative imports resolve against the module's package (a package's own __init__ is one).
    is_package = any(k.startswith(module + ".") for k in known)
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level + is_package]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in known else base)
    return {m for m in found if m == "edgecpm" or m.startswith("edgecpm.")} - {module}


def import_graph(sources: dict[str, str]) -> dict[str, set[str]]:
    known = set(sources)
    return {m: imported_modules(m, src, known) for m, src in sources.items()}


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{m} (layer {layer_of(m)}) imports {t} (layer {layer_of(t)})"
                  for m, targets in graph.items() for t in targets
                  if layer_of(t) is not None and layer_of(m) is not None and layer_of(t) > layer_of(m))


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def test_every_module_has_a_layer():
    unplaced = sorted(m for m in package_sources() if layer_of(m) is None)
    assert not unplaced, f"give these modules a layer in LAYERS (tests/test_layers.py): {unplaced}"


def test_no_import_goes_up():
    upward = upward_imports(import_graph(package_sources()))
    assert not upward, "imports against the layer order:\n" + "\n".join(upward)


def test_no_import_cycles():
    cycles = import_cycles(import_graph(package_sources()))
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


# The checker itself: each rule fails on a planted violation.

def test_an_upward_import_inside_a_function_is_found():
    sources = {"edgecpm.quant.ops": "def f():\n    from edgecpm.generate import sample\n",
               "edgecpm.generate": ""}
    assert upward_imports(import_graph(sources)) == [
        "edgecpm.quant.ops (layer 1) imports edgecpm.generate (layer 4)"]


@pytest.mark.parametrize("line", ["import edgecpm.cli.app", "from edgecpm.cli import app",
                                  "from ..cli.app import main", "from edgecpm.runtime.pte import PteModel"])
def test_every_import_form_is_read(line):
    sources = {"edgecpm.model.minicpm": line + "\n", "edgecpm.cli.app": "", "edgecpm.runtime.pte": ""}
    assert len(upward_imports(import_graph(sources))) == 1


def test_a_cycle_within_one_layer_is_found():
    sources = {"edgecpm.checkpoint.loader": "from edgecpm.checkpoint import quantized\n",
               "edgecpm.checkpoint.quantized": "def f():\n    import edgecpm.checkpoint.loader\n"}
    assert import_cycles(import_graph(sources)) == [["edgecpm.checkpoint.loader", "edgecpm.checkpoint.quantized"]]


def test_a_downward_import_passes():
    sources = {"edgecpm.bench": "from edgecpm.runtime.pte import PteModel\n", "edgecpm.runtime.pte": ""}
    graph = import_graph(sources)
    assert upward_imports(graph) == [] and import_cycles(graph) == []
