"""gradstep: the Keras 2.2 optimizers, exact and fast, on NumPy (PyTorch and JAX opt-in)."""

from __future__ import annotations

from . import backend, optimizers

__version__ = "0.1.0"

__all__ = ["backend", "optimizers", "__version__"]
