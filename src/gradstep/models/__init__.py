"""Keras 2.2's model API on NumPy: ``Sequential``, ``Model``, ``load_model`` and friends.

    from gradstep import optimizers
    from gradstep.models import Sequential
    from gradstep.layers import Dense, Activation

    model = Sequential()
    model.add(Dense(64, kernel_initializer='uniform', input_shape=(10,)))
    model.add(Activation('tanh'))
    model.add(Activation('softmax'))
    sgd = optimizers.SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True)
    model.compile(loss='mean_squared_error', optimizer=sgd)

Forward and backward passes are written per layer in NumPy (BLAS for the products);
weights and gradients live in flat buffers so each batch is one optimizer call.
Randomness: see ``set_random_seed`` and ``Sequential(seed=...)``.
"""

from __future__ import annotations

from .._seeding import set_random_seed
from .functional import Model
from .saving import (
    load_model,
    model_from_config,
    model_from_json,
    model_from_yaml,
    save_model,
)
from .sequential import Sequential

__all__ = [
    "Sequential",
    "Model",
    "load_model",
    "save_model",
    "model_from_json",
    "model_from_yaml",
    "model_from_config",
    "set_random_seed",
]
