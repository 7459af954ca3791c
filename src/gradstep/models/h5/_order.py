"""The order in which Keras 2.2.4 lists a layer's weights in an HDF5 file.

Keras writes (and reads back, by position) each top-level layer's ``layer.weights``.
For a plain layer that is gradstep's order too. For a model nested as a layer it is
Keras's ``Network.weights``: its trainable weights, then its non-trainable ones (the
moving statistics of a BatchNormalization, the weights of frozen layers), each part
layer by layer, recursively; gradstep lists a nested model's weights layer by layer.
``keras_order(layer)`` gives the positions in ``layer.weights`` in Keras's order.
"""

from __future__ import annotations

from typing import Any

__all__ = ["keras_order", "keras_names"]


def _split(layer: Any, offset: int) -> tuple[list[int], list[int], int]:
    """(trainable positions, non-trainable positions, weight count) of ``layer`` as
    Keras 2.2.4's ``trainable_weights`` / ``non_trainable_weights`` list them."""
    from .._network import Network

    if not isinstance(layer, Network):
        trained = set(layer.trainable_weight_names)
        names = layer.weight_names
        train = [offset + i for i, n in enumerate(names) if n in trained]
        fixed = [offset + i for i, n in enumerate(names) if n not in trained]
        return train, fixed, len(names)
    train, fixed, size = [], [], 0
    for sub in layer.layers:
        t, f, n = _split(sub, offset + size)
        train, fixed, size = train + t, fixed + f, size + n
    if not layer.trainable:  # Keras: the sublayers' trainable weights, then the rest
        return [], train + fixed, size
    return train, fixed, size


def keras_order(layer: Any) -> list[int]:
    """Positions in ``layer.weights`` in the order Keras 2.2.4's ``layer.weights``
    lists them (the identity for a layer that is not a model)."""
    train, fixed, _ = _split(layer, 0)
    return train + fixed


def keras_names(layer: Any) -> list[str]:
    """The weight names Keras 2.2.4 writes for ``layer``, in :func:`keras_order`:
    ``layer/kernel`` for a layer, the inner layer's ``dense_1/kernel`` (without the
    model's name) for a nested model."""
    from .._network import Network

    names = layer.weight_names
    if not isinstance(layer, Network):
        names = [f"{layer.name}/{n}" for n in names]
    return [names[i] for i in keras_order(layer)]
