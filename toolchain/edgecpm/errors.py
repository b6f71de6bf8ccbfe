"""The errors edgecpm raises for bad input. Each message names the file and what to do.

The CLI prints these without a traceback; anything else is a bug and keeps its traceback.
"""


class EdgecpmError(Exception):
    """Base class: a problem with the user's input or environment, not with edgecpm."""


class ConfigError(EdgecpmError):
    """A config.json that is not a (supported) MiniCPM4 config, or an unknown preset."""


class CheckpointError(EdgecpmError):
    """A checkpoint directory or safetensors file that cannot be loaded as it is."""


class TokenizerError(EdgecpmError):
    """Tokenizer files that are missing or unreadable."""


class EnvironmentMismatch(EdgecpmError):
    """An installed dependency of the wrong version (torch / executorch pins)."""


class QuantError(EdgecpmError):
    """A weight tensor, group size or pack format that cannot be quantized or packed as asked."""


class KernelLibraryError(EdgecpmError):
    """A program needs operators that no loaded library provides (ExecuTorch's 'Missing operator')."""


class OutputPathError(EdgecpmError):
    """An output path that must not be written or replaced (a file, a link, the current or home
    directory, a directory with files edgecpm did not write)."""
