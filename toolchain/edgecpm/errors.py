"""The errors edgecpm raises for bad input. Each message names the file and what to do.

The CLI prints these (and its own ``typer.BadParameter`` for a bad flag) as one line without a
traceback; anything else, a ValueError included, is a bug in edgecpm and keeps its traceback.
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


class UsageError(EdgecpmError):
    """A bad option value or combination of options, found below the CLI layer (the library knows
    the vocabulary or the program); the CLI's own flag checks raise ``typer.BadParameter``."""


class DeviceError(EdgecpmError):
    """A device (``ssh://``, ``adb://``) that cannot be reached or logged into, that times out,
    drops the connection, runs out of disk, cannot run the bundle's architecture, or whose runner
    dies; the message names the device and what to do."""
