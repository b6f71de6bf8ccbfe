"""``edgecpm bench --depth``: speed at a context depth (llama-bench's ``-d``), and the machine's
copy bandwidth that decode rows are set against (``bw_pct``).

At depth D a run's prompt is D random ids of context, then the usual ``n_prompt`` ids; the
decode row times the ``n_gen`` tokens after them (positions D + n_prompt ...), so it measures
attention over a long cache as well as the weights. Python backends (eager, .pte in Python) fill
the context untimed and then time the last ``n_prompt`` tokens' prefill on their own
(``pp64 @ d8192``); the native runner prefills its whole prompt in one timed call, so at a depth it
gives only the decode row. Depth 0 is the plain test, named as without ``--depth``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import torch

from edgecpm.bench_timing import repeat_calls
from edgecpm.errors import EdgecpmError, UsageError
from edgecpm.generate import generate
from edgecpm.runtime.device_runtime import COPY_BANDWIDTH


def depth_test_name(test: str, depth: int) -> str:
    """llama-bench's name for a test at a depth: ``tg32 @ d8192``; unchanged at depth 0."""
    return f"{test} @ d{depth}" if depth else test


def positions_needed(depths: list[int], n_prompt: int, n_gen: int) -> int:
    """Cache positions the deepest run fills: context, prompt, and the generated tokens."""
    return max(depths) + n_prompt + n_gen


def check_depths_fit(depths: list[int], n_prompt: int, n_gen: int, max_seq_len: int, where: str, hint: str) -> None:
    need = positions_needed(depths, n_prompt, n_gen)
    if need > max_seq_len:
        deepest = f"--depth {max(depths)} + " if max(depths) else ""
        raise UsageError(f"{deepest}--n-prompt {n_prompt} + -n {n_gen} = {need} positions, but {where} holds "
                         f"{max_seq_len}; {hint}")


def prompt_ids(vocab_size: int, n_prompt: int, seed: int) -> list[int]:
    """bench's random prompt: ``n_prompt`` ids from 3 up (past the special tokens), seeded."""
    return torch.randint(3, vocab_size, (n_prompt,), generator=torch.Generator().manual_seed(seed)).tolist()


def context_ids(vocab_size: int, depth: int, seed: int) -> list[int]:
    """``depth`` random ids (3 and up: past the special tokens), drawn apart from the prompt's."""
    generator = torch.Generator().manual_seed(seed + 1_000_003)
    return torch.randint(3, vocab_size, (depth,), generator=generator).tolist()


def samples_at_depth(model, context: list[int], prompt: list[int], n_gen: int,
                     reps: int) -> list[tuple[str, list[float]]]:
    """A Python backend's ``pp``/``tg`` rates at depth ``len(context)`` over ``reps`` runs after a warm-up."""
    runs = repeat_calls(lambda: generate(model, prompt, n_gen, context=context), reps)
    depth = len(context)
    return [(depth_test_name(f"pp{len(prompt)}", depth), [r.prefill_tok_s for r in runs]),
            (depth_test_name(f"tg{n_gen}", depth), [r.decode_tok_s for r in runs])]


def parse_copy_bandwidth(stdout: str, where: str) -> dict:
    """The copy bandwidth program's JSON line (its last line of output)."""
    lines = stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1])
        if float(result["copy_gb_s"]) <= 0:
            raise ValueError
    except (IndexError, ValueError, KeyError, TypeError):
        raise EdgecpmError(f"{where}: {COPY_BANDWIDTH} printed no copy bandwidth: {stdout.strip()[-200:]!r}") from None
    return result


def copy_bandwidth_line(result: dict) -> str:
    return (f"copy bandwidth: {result['copy_gb_s']:.1f} GB/s (memcpy of {result['buffer_mib']} MiB on "
            f"{result['threads']} threads, read + written; % bw = decode GB/s over it)")


def host_copy_bandwidth(kernel_dir: Path) -> dict:
    """This machine's copy bandwidth, from the local build of the copy bandwidth program."""
    program = kernel_dir / COPY_BANDWIDTH
    if not program.is_file():
        raise EdgecpmError(f"{program} is not built: run `make kernels` (bench sets decode rows against this "
                           "machine's copy bandwidth)")
    done = subprocess.run([str(program)], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise EdgecpmError(f"{program} failed (exit {done.returncode}): {done.stderr.strip()[-300:]}")
    return parse_copy_bandwidth(done.stdout, str(program))
