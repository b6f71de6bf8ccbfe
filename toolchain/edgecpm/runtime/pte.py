"""Running an exported bundle (``edgecpm.export.pte`` writes it) from Python: ``PteModel``.

It has the eager model's call interface (``runtime.protocols.CausalLM``), so ``generate``, ``eval``
and ``bench`` run either without asking which. Its operators are checked and the kernel library
loaded before the program is (``kernel_library``); a program that fails inside ExecuTorch is one
``error:`` line naming the file (``torch_env.program_errors``).
"""

from __future__ import annotations

from pathlib import Path

import torch

from edgecpm.errors import KernelLibraryError
from edgecpm.export.pte_manifest import LIBRARY_NAME, PROGRAM, manifest_config, read_manifest
from edgecpm.runtime.kernel_library import ensure_operators, install_abort_handler
from edgecpm.torch_env import execute_single_threaded, program_errors, require_executorch


class PteModel:
    """An exported program behind the eager model's call interface, so ``generate`` runs it.

    ``trust_bundled_kernels``: load the bundle's own kernel library even when it is not a build of
    this installation (default: EDGECPM_TRUST_BUNDLED_KERNELS; see ``kernel_library``)."""

    def __init__(self, out_dir: str | Path, verify: bool = True, trust_bundled_kernels: bool | None = None):
        require_executorch()
        self.dir = Path(out_dir)
        self.manifest = read_manifest(self.dir, verify=verify)
        self.config = manifest_config(self.dir, self.manifest)
        self.max_seq_len = self.manifest["max_seq_len"]
        self.chunk = self.manifest.get("prefill_chunk", self.max_seq_len)
        self._load(trust_bundled_kernels)

    def _load(self, trust_bundled_kernels: bool | None):
        import platform

        from executorch.runtime import Runtime

        program = self.dir / PROGRAM
        if self.manifest["arch"] != platform.machine():
            raise KernelLibraryError(f"{self.dir}: exported for {self.manifest['arch']} "
                                     f"(--target {self.manifest['target']}); this machine is {platform.machine()}")
        bundled = self.dir / LIBRARY_NAME if self.manifest.get("kernel_library") else None
        ensure_operators(self.manifest["operators"], program, bundled, trust_bundled_kernels)
        install_abort_handler(program)
        with program_errors(program):
            self.program = Runtime.get().load_program(str(program))
            self._method = self.program.load_method("forward")

    def describe_scheme(self) -> str:
        return f"{self.manifest['scheme']} .pte ({self.manifest['backend']})"

    def weight_bytes(self) -> tuple[float, float]:
        """(bits per weight of block linears, MiB stored): the program file is what is stored."""
        return self.manifest.get("bits_per_weight", 32.0), (self.dir / PROGRAM).stat().st_size / 2**20

    def speculative(self):
        """(base, draft) for ``speculative_generate``: this program's ``verify`` and ``draft``
        methods (``spec_program``)."""
        from edgecpm.runtime.spec_program import load_pte_spec

        return load_pte_spec(self)

    def reset_caches(self):
        # Stale cache slots are masked by position, so reuse is safe; nothing to clear.
        pass

    def __call__(self, tokens: torch.Tensor, input_pos: torch.Tensor | None = None) -> torch.Tensor:
        if input_pos is None:
            input_pos = torch.arange(tokens.shape[1])
        with program_errors(self.dir / PROGRAM):
            chunks = [execute_single_threaded(self._method, [tokens[:, a:a + self.chunk], input_pos[a:a + self.chunk]])[0]
                      for a in range(0, tokens.shape[1], self.chunk)]
        return chunks[0] if len(chunks) == 1 else torch.cat(chunks, dim=1)
