"""The Keras 2.2 optimizers, exact, on NumPy arrays.

``get``, ``serialize`` and ``deserialize`` turn names and configs into optimizers; only
classes registered with ``register`` or passed in ``custom_objects`` are ever built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._base import Optimizer
from ._clip import clip_element, global_norm, norm_scale
from ._registry import register, registered_names
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .nadam import Nadam
from .rmsprop import RMSprop
from .sgd import SGD
from ._serialization import deserialize, get, serialize

# Lower-case aliases, as in Keras: the same class objects.
sgd = SGD
rmsprop = RMSprop
adagrad = Adagrad
adadelta = Adadelta
adam = Adam
adamax = Adamax
nadam = Nadam

__all__ = [
    "Optimizer",
    "SGD",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "Adam",
    "Adamax",
    "Nadam",
    "sgd",
    "rmsprop",
    "adagrad",
    "adadelta",
    "adam",
    "adamax",
    "nadam",
    "get",
    "serialize",
    "deserialize",
    "register",
    "registered_names",
    "clip_element",
    "global_norm",
    "norm_scale",
]
