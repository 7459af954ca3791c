"""gradstep: the Keras 2.2 optimizers, exact and fast, on NumPy (PyTorch opt-in)."""

from __future__ import annotations

from . import (
    activations,
    backend,
    callbacks,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
)
from ._version import __version__

__all__ = [
    "activations",
    "backend",
    "callbacks",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "regularizers",
    "__version__",
]
