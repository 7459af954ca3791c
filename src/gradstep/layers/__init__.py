"""Keras 2.2 layers on NumPy: ``from gradstep.layers import Dense, Activation``.

Each layer has a hand-written forward and backward pass; weights and gradients live in
the model's flat buffers (see ``gradstep.models.Sequential``).
"""

from __future__ import annotations

from ._base import Layer
from ._serialization import deserialize, serialize
from .core import Activation, Dense, Dropout, Flatten

__all__ = [
    "Layer",
    "Dense",
    "Activation",
    "Dropout",
    "Flatten",
    "serialize",
    "deserialize",
]
