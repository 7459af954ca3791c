"""The lab's model: a Dense MLP built with gradstep's Keras-style NumPy models."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from ._errors import LabError

__all__ = ["build_mlp", "describe_mlp", "LOSS"]

LOSS = "categorical_crossentropy"


def _model_api() -> tuple[Any, Any, Any]:
    try:
        from ..layers import Dense, Dropout
        from ..models import Sequential
    except ImportError as exc:
        raise LabError(f"gradstep's NumPy models are not available ({exc})") from None
    return Sequential, Dense, Dropout


def build_mlp(
    input_dim: int,
    num_classes: int,
    hidden: Sequence[int],
    activation: str,
    dropout: float,
    seed: int,
    kernel_initializer: str = "glorot_uniform",
) -> Any:
    """``Dense(h, activation)`` (+ ``Dropout``) per hidden size, then a softmax ``Dense``;
    every ``Dense`` gets ``kernel_initializer`` and zero biases.

    The model gets its own random generator seeded with ``seed`` (initial weights and
    dropout masks), so two models built with the same arguments draw the same numbers."""
    sequential, dense, dropout_layer = _model_api()
    if "seed" in inspect.signature(sequential).parameters:
        model = sequential(seed=seed)
    else:  # pragma: no cover - older model API without per-model seeds
        model = sequential()
    shape: dict[str, Any] = {"input_shape": (input_dim,)}
    init = {"kernel_initializer": kernel_initializer, "bias_initializer": "zeros"}
    for units in hidden:
        model.add(dense(units, activation=activation, **init, **shape))
        shape = {}
        if dropout:
            model.add(dropout_layer(dropout))
    model.add(dense(num_classes, activation="softmax", **init, **shape))
    return model


def describe_mlp(
    input_dim: int,
    num_classes: int,
    hidden: Sequence[int],
    activation: str,
    dropout: float,
    kernel_initializer: str = "glorot_uniform",
) -> str:
    """``"64-64(relu)-10(softmax)"`` style summary, with dropout when used."""
    sizes = "-".join(str(n) for n in (input_dim, *hidden, num_classes))
    extra = (
        f", dropout {dropout:g} after each hidden layer" if dropout and hidden else ""
    )
    init = (
        f", {kernel_initializer} init" if kernel_initializer != "glorot_uniform" else ""
    )
    return f"Dense MLP {sizes}, {activation} hidden, softmax output{init}{extra}"
