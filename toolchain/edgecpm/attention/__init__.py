"""Attention variants beyond dense SDPA: InfLLM-v2 block-sparse attention (MiniCPM4-8B).

``infllm_v2`` is the readable reference (the truth for every kernel), ``ops`` registers it as
``edgecpm::infllm_attention``, ``cache`` keeps the compressed keys a sparse layer reads.
"""
