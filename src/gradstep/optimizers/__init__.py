"""The Keras 2.2 optimizers, exact, on NumPy arrays.

``get``, ``serialize`` and ``deserialize`` turn names and configs into optimizers; only
classes registered with ``register`` or passed in ``custom_objects`` are ever built.
"""

from __future__ import annotations

from ..kernels import elementwise
from ..kernels.clip import clip_element, clip_norm, global_norm, norm_scale
from ._base import Optimizer
from ._hyper import Hyperparameter
from ._registry import builtin_classes, lookup, register, registered_names
from ._serialization import deserialize, get, serialize
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .nadam import Nadam
from .native import TorchOptimizer
from .native_optax import OptaxOptimizer
from .rmsprop import RMSprop
from .sgd import SGD

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
    "Hyperparameter",
    "SGD",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "Adam",
    "Adamax",
    "Nadam",
    "TorchOptimizer",
    "OptaxOptimizer",
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
    "builtin_classes",
    "lookup",
    "elementwise",
    "clip_element",
    "clip_norm",
    "global_norm",
    "norm_scale",
]
