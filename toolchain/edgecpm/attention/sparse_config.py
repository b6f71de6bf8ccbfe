"""InfLLM-v2's parameters as a checkpoint's ``config.json`` states them (``sparse_config``).

They live with the attention that uses them, below ``model``: ``model.config`` reads them from
the checkpoint, ``infllm_v2.SparseParams`` turns them into the op's arguments.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SparseConfig:
    """InfLLM-v2 block-sparse attention parameters (MINICPM4.md §3), as HF ``sparse_config``.

    ``topk`` counts the blocks chosen by score; the total budget adds the ``window_size /
    block_size`` local blocks (``edgecpm.attention.infllm_v2.SparseParams``).
    """

    kernel_size: int = 32
    kernel_stride: int = 16
    init_blocks: int = 1
    block_size: int = 64
    window_size: int = 2048
    topk: int = 64
    use_nope: bool = False
    dense_len: int = 8192

    def problems(self) -> list[str]:
        """What is wrong with these values, one message per field ([] if nothing)."""
        out = []
        for name, low in (("kernel_size", 1), ("kernel_stride", 1), ("block_size", 1),
                          ("init_blocks", 0), ("window_size", 0), ("topk", 0), ("dense_len", -1)):
            v = getattr(self, name)
            if type(v) is not int or v < low:
                out.append(f"sparse_config.{name} must be an integer >= {low}, got {v!r}")
        if out:
            return out
        if self.window_size % self.block_size:
            out.append(f"sparse_config.window_size {self.window_size} is not a multiple of "
                       f"block_size {self.block_size} (the local window is counted in blocks)")
        if self.topk < self.init_blocks + 1:
            out.append(f"sparse_config.topk {self.topk} leaves no room beside the {self.init_blocks} "
                       "init block(s): a query could lose its own block")
        if self.use_nope is not False:
            out.append(f"sparse_config.use_nope {self.use_nope!r} is not supported (compressed keys "
                       "are built from RoPE'd keys; MiniCPM4 uses false)")
        return out
