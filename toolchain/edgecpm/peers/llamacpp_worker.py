"""Time one GGUF in llama.cpp (llama-cpp-python): prefill of a prompt, then greedy decode; one JSON line.

Runs under the Python that has llama-cpp-python (``llamacpp.llama_python``), never imported by
edgecpm: llama.cpp's build stays out of edgecpm's environment and its process shares nothing with
the runs it is compared to. It imports only numpy, llama_cpp and the timing harness, which it loads
from its file (``edgecpm.bench_timing`` is standard library only), so edgecpm need not be installed
in that Python.

    PYTHON -m edgecpm.peers.llamacpp_worker M.gguf --prompt-ids 5,9,... -n 32 [--threads 2]   (or by path)
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import time
from pathlib import Path


def _harness():
    spec = importlib.util.spec_from_file_location("edgecpm_bench_timing", Path(__file__).parents[1] / "bench_timing.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("gguf")
    ap.add_argument("--prompt-ids", required=True)
    ap.add_argument("-n", type=int, default=32)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--no-extra-bufts", action="store_true",
                    help="keep weights in plain CPU buffers: no AMX / CPU_REPACK copies (llama.cpp's "
                         "--no-extra-bufts). On an AMX CPU the AMX buffer crashed llama.cpp on Q4_0 weights.")
    args = ap.parse_args()
    prompt = [int(t) for t in args.prompt_ids.split(",")]
    time_calls = _harness().time_calls

    # Before llama.cpp's libgomp loads: OpenMP's default active (spinning) wait makes llama.cpp
    # collapse on a shared machine (tiny TQ2_0 at load ~4 on 2 cores: 2.7-23 tok/s decode by
    # default, ~1300 with passive waiting). An explicit OMP_WAIT_POLICY in the environment wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import llama_cpp
    import numpy as np
    from llama_cpp import Llama, __version__

    if args.no_extra_bufts:
        defaults = llama_cpp.llama_model_default_params

        def model_params():
            p = defaults()
            p.use_extra_bufts = False
            return p

        # Llama() takes its model params from this function; there is no keyword for the field.
        llama_cpp.llama_cpp.llama_model_default_params = model_params

    t = time.perf_counter()
    # n_batch = prompt length: the whole prompt is one prefill batch, as in our runner.
    llm = Llama(model_path=args.gguf, n_ctx=len(prompt) + args.n + 8, n_threads=args.threads,
                n_threads_batch=args.threads, n_batch=len(prompt), verbose=False)
    load_s = time.perf_counter() - t

    def last_logits():
        # Without logits_all, eval() does not fill llm.scores: read the context's last logits.
        return np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))

    # One warm-up prefill (it faults the mmapped weights in; our runs load them first too), then
    # the timed one, each from an empty context.
    (prefill_s,) = time_calls(lambda: llm.eval(prompt), reps=1, warmup=1, setup=llm.reset)
    finite = bool(np.isfinite(last_logits()).all())
    tokens = []

    def step():
        tokens.append(int(last_logits().argmax()))
        llm.eval([tokens[-1]])

    decode_s = sum(time_calls(step, reps=args.n, warmup=0))
    print(json.dumps({"runtime": f"llama-cpp-python {__version__}", "threads": args.threads,
                      "omp_wait_policy": os.environ["OMP_WAIT_POLICY"], "load_ms": round(load_s * 1e3, 1),
                      "prefill_tok_s": len(prompt) / prefill_s, "decode_tok_s": args.n / decode_s,
                      "logits_finite": finite, "tokens": tokens}))


if __name__ == "__main__":
    main()
