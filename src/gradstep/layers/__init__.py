"""Keras 2.2 layers on NumPy: ``from gradstep.layers import Dense, Activation, Input``.

Each layer has a hand-written forward and backward pass; weights and gradients live in
the model's flat buffers (see ``gradstep.models``). Layers are called on tensors from
``Input()`` to build functional models (``gradstep.models.Model``).
"""

from __future__ import annotations

from ._base import Layer
from ._input import Input, InputLayer
from ._serialization import deserialize, serialize
from ._tensor import Tensor
from .advanced_activations import ELU, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU
from .core import Activation, ActivityRegularization, Dense, Dropout, Flatten
from .merge import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from .noise import AlphaDropout, GaussianDropout, GaussianNoise
from .normalization import BatchNormalization
from .reshaping import Permute, RepeatVector, Reshape

__all__ = [
    "Layer",
    "Input",
    "InputLayer",
    "Tensor",
    "Dense",
    "Activation",
    "Dropout",
    "Flatten",
    "ActivityRegularization",
    "Reshape",
    "Permute",
    "RepeatVector",
    "BatchNormalization",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "LeakyReLU",
    "PReLU",
    "ELU",
    "ThresholdedReLU",
    "ReLU",
    "Softmax",
    "Add",
    "Subtract",
    "Multiply",
    "Average",
    "Maximum",
    "Minimum",
    "Concatenate",
    "Dot",
    "add",
    "subtract",
    "multiply",
    "average",
    "maximum",
    "minimum",
    "concatenate",
    "dot",
    "serialize",
    "deserialize",
]
