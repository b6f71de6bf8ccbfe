"""Where a model runs: what callers need of it, and the backends that provide it.

- ``protocols``: ``CausalLM``, ``SpeculativeBase``, ``SpeculativeDraft`` (typed contracts; no
  caller asks a model what it has).
- ``pte``: an exported bundle run by the ExecuTorch Python runtime (``PteModel``);
  ``spec_program``: its speculative-decoding methods; ``kernel_library``: finding, checking and
  loading the edgecpm kernels it needs.
- ``eager``: the eager model as a speculative base; ``cuda``: the GPU reference runner.
- ``sampling``: choosing the next token; ``result``: what a generation run returns;
  ``footprint``: a model's weight scheme and size, whatever runs it.
- ``transport``: taking a bundle to the machine that runs it: ``LocalTransport`` here,
  ``ssh_transport``/``adb_transport`` (on ``remote_transport``, ``remote_shell``,
  ``client_process``) for devices, picked by ``devices.open_device``; ``deploy`` puts a bundle and
  the runner (``device_runtime``) on a device, ``device_runner`` runs it there, ``device_info``
  and ``power`` describe the device and what it drew.
"""
