"""A model's weight scheme and stored size, for any backend: an exported program reads them from
its manifest and file (``PteModel``), an eager model (CPU or ``cuda.OnDevice``) from its tensors
(``edgecpm.model.footprint``)."""

from __future__ import annotations

from edgecpm.model import footprint as eager
from edgecpm.runtime.pte import PteModel


def describe_scheme(model) -> str:
    return model.describe_scheme() if isinstance(model, PteModel) else eager.describe_scheme(model)


def weight_bytes(model) -> tuple[float, float]:
    """(bits per weight of block linears, total MiB of stored weights)."""
    return model.weight_bytes() if isinstance(model, PteModel) else eager.weight_bytes(model)
