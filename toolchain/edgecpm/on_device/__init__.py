"""Commands that run an exported bundle on a remote device (``--device ssh://...`` / ``adb://...``):
``deploy``, ``generate`` and ``bench`` there, through ``runtime.deploy`` and the native runner.
The prompt is tokenized here (the runner takes token ids) and the text comes back streamed."""
