"""Tensor-level quantization: weight tensors in, packed bytes + scales out. Knows no model.

- ``formats``  : the pack formats and their byte layouts (torch-free, printable as a table).
- ``ternary``  : BitCPM absmean ternary quantizer, and exact recovery of fake-quantised weights.
- ``pack_tq2`` / ``pack_tq1`` : llama.cpp TQ2_0 / TQ1_0 byte codecs (trits + block scale).
- ``tq``       : where a ternary weight's scales go when it is laid out as TQ2_0 / TQ1_0.
- ``int4``     : group-wise int4 RTN (sym / asym), the kernel nibble layout, and llama.cpp Q4_0.
- ``gptq``     : GPTQ for one linear layer, and the (P-GPTQ) Hessian accumulator.
- ``metrics``  : SQNR.

This ``__init__`` imports nothing, so ``edgecpm.quant.formats`` stays importable without torch.
"""
