"""GPU reference kernels (Triton) for the edgecpm:: ops. The C++ edge kernels are in runtime_kernels/."""


def register_cuda_kernels() -> None:
    """Make every edgecpm:: op with a Triton kernel run it on CUDA tensors: the quantized linears
    (``triton_linear``) and InfLLM-v2 attention (``triton_infllm``). Imports Triton."""
    from edgecpm.kernels import triton_infllm, triton_linear

    triton_linear.register_cuda_kernels()
    triton_infllm.register_cuda_kernels()
