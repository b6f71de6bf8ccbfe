"""llama.cpp (through llama-cpp-python) on our GGUF export of a checkpoint: the same quantized bytes
our kernels read (ternary as TQ2_0, int4 as Q4_0, the int8 table as Q8_0), timed in a process of
its own by ``llamacpp_worker``.

Which Python has llama-cpp-python: ``$EDGECPM_LLAMA_PYTHON``, else ``build/peers-venv/bin/python``
of a source checkout (``make bench-peers`` makes it), else this Python when it can import
``llama_cpp``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from edgecpm.errors import EdgecpmError
from edgecpm.peers.cache import peer_dir

WORKER = Path(__file__).with_name("llamacpp_worker.py")
CHECKOUT_VENV = Path(__file__).resolve().parents[3] / "build" / "peers-venv" / "bin" / "python"
INSTALL_HINT = ("llama-cpp-python is not found: in a source checkout `make bench-peers` builds "
                "build/peers-venv with it; elsewhere `pip install llama-cpp-python` into a venv and set "
                "EDGECPM_LLAMA_PYTHON=/that/venv/bin/python")


def llama_python() -> str | None:
    if os.environ.get("EDGECPM_LLAMA_PYTHON"):
        return os.environ["EDGECPM_LLAMA_PYTHON"]
    if CHECKOUT_VENV.is_file():
        return str(CHECKOUT_VENV)
    return sys.executable if importlib.util.find_spec("llama_cpp") is not None else None


def gguf_of(model_dir: Path, progress=print) -> Path:
    """Our GGUF export of ``model_dir``, cached beside its other peers' files."""
    from edgecpm.export.gguf import export_gguf

    out = peer_dir("gguf", model_dir) / "model.gguf"
    if not out.is_file():
        progress(f"exporting {model_dir} to GGUF for llama.cpp -> {out}")
        export_gguf(model_dir, out, overwrite=True)
    return out


def time_gguf(gguf: Path, prompt: list[int], n: int, threads: int) -> dict:
    """One run under each OpenMP wait policy, the faster decode kept (the record says which): llama.cpp's
    default spinning wait is best on a quiet machine and collapses when the cores are shared, passive
    waiting the reverse, so the peer always gets its better run. An OMP_WAIT_POLICY set by the user wins.

    llama.cpp's extra weight buffers (AMX, CPU_REPACK) crash it on some CPUs and types (Q4_0 on this
    project's AMX machine): a run that dies by a signal is repeated with plain buffers, and the
    record says so (``extra_bufts``)."""
    python = llama_python()
    if python is None:
        raise EdgecpmError(f"--compare llama.cpp: {INSTALL_HINT}")
    policies = [os.environ["OMP_WAIT_POLICY"]] if os.environ.get("OMP_WAIT_POLICY") else ["ACTIVE", "PASSIVE"]
    runs = []
    for policy in policies:
        argv = [python, str(WORKER), str(gguf), "--prompt-ids", ",".join(map(str, prompt)), "-n", str(n),
                "--threads", str(threads)]
        env = {**os.environ, "OMP_WAIT_POLICY": policy}
        res = subprocess.run(argv, capture_output=True, text=True, env=env)
        extra_bufts = True
        if res.returncode < 0:
            res = subprocess.run([*argv, "--no-extra-bufts"], capture_output=True, text=True, env=env)
            extra_bufts = False
        if res.returncode != 0:
            why = (f"killed by {signal.Signals(-res.returncode).name}" if res.returncode < 0
                   else (res.stderr.strip().splitlines() or ["no message"])[-1])
            raise EdgecpmError(f"the llama.cpp peer failed on {gguf}: {why}")
        runs.append({**json.loads(res.stdout.strip().splitlines()[-1]), "extra_bufts": extra_bufts})
    return max(runs, key=lambda r: r["decode_tok_s"])
