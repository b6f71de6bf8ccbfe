"""The tools a user would pick instead of edgecpm, run on the same weights in the same benchmark
(``edgecpm bench BUNDLE --compare llama.cpp,et-8da4w``): llama.cpp on our GGUF export of the
bundle's checkpoint (the same quantized bytes), and ExecuTorch's own 8da4w XNNPACK export
(``export_llm``) of the float weights that checkpoint was quantized from. Each runs in a process of
its own, timed by the same harness (``edgecpm.bench_timing``) and reported as rows beside ours."""

PEERS = ("llama.cpp", "et-8da4w")
