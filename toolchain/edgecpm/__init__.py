"""edgecpm: MiniCPM4 on the edge.

Importing this package must stay cheap: `edgecpm --help` never imports torch. Modules that need
torch import it themselves, through `edgecpm.torch_env.require_torch()` where the pin matters.
"""

__version__ = "0.1.0"
