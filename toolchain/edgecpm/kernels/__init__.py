"""GPU reference kernels (Triton) for the edgecpm:: ops. The C++ edge kernels are in runtime_kernels/."""
