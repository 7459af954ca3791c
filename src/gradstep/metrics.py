"""Keras 2.2 metrics: the accuracies, and every loss usable as a metric.

A metric maps targets and predictions to a score per sample (the model reports its mean).
``resolve(metric, loss, output_shape)`` chooses as Keras 2.2.4's ``compile`` does:
'accuracy'/'acc' (reported as 'acc') and 'crossentropy'/'ce' (as 'ce') become the binary
version when the output has one unit or the loss is binary crossentropy, the sparse
version when the loss is sparse categorical crossentropy, else the categorical one. Any
other name is a metric or loss name and is reported under its full Keras name
('mse' -> 'mean_squared_error'); a callable ``f(y_true, y_pred)`` on NumPy arrays is
reported under its ``__name__``.

The module-level functions are Keras 2.2.4's: ``binary_accuracy``,
``categorical_accuracy`` and ``sparse_categorical_accuracy`` give one score per sample;
``top_k_categorical_accuracy`` and ``sparse_top_k_categorical_accuracy`` (``k=5``) give
the batch mean, as Keras's ``K.mean(K.in_top_k(...), axis=-1)`` does. Keras's loss
aliases are here too (``metrics.mse``, ``metrics.mae``, ...), as in ``keras.metrics``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from . import losses
from ._registry import Registry
from .losses import (  # noqa: F401 - Keras's keras.metrics re-exports the losses
    KLD,
    MAE,
    MAPE,
    MSE,
    MSLE,
    binary_crossentropy,
    categorical_crossentropy,
    categorical_hinge,
    cosine,
    cosine_proximity,
    hinge,
    kld,
    kullback_leibler_divergence,
    logcosh,
    mae,
    mape,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    mse,
    msle,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)

__all__ = [
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "resolve",
    "get",
    "serialize",
    "deserialize",
    *losses.FUNCTION_NAMES,
]

_REGISTRY = Registry("metric")


@_REGISTRY.register()
def binary_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """mean(y_true == round(y_pred)) over the last axis (round half to even, as tf)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return np.mean(np.equal(y_true, np.round(y_pred)), axis=-1)


@_REGISTRY.register()
def categorical_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """1 where argmax(y_true) == argmax(y_pred)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return np.equal(np.argmax(y_true, axis=-1), np.argmax(y_pred, axis=-1)).astype(
        y_pred.dtype
    )


@_REGISTRY.register()
def sparse_categorical_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """1 where the integer label equals argmax(y_pred)."""
    labels, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if labels.shape == y_pred.shape[:-1] + (1,):
        labels = labels[..., 0]
    return np.equal(labels, np.argmax(y_pred, axis=-1)).astype(y_pred.dtype)


def _in_top_k(y_pred: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    # tf.nn.in_top_k: the label's score is among the k largest.
    target = np.take_along_axis(y_pred, labels[..., None], axis=-1)
    return (np.sum(y_pred > target, axis=-1) < k).astype(y_pred.dtype)


def _check_k(k: Any) -> int:
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
        raise ValueError(f"k must be an integer, got {k!r}")
    return int(k)


@_REGISTRY.register()
def top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> np.ndarray:
    """The fraction of samples whose argmax(y_true) is among the k largest predictions
    (the batch mean, as Keras 2.2.4)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    hits = _in_top_k(y_pred, np.argmax(y_true, axis=-1), _check_k(k))
    return np.mean(hits, axis=-1)


@_REGISTRY.register()
def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> np.ndarray:
    """The fraction of samples whose integer label is among the k largest predictions
    (labels of shape (N,) or (N, 1); the batch mean, as Keras 2.2.4)."""
    y_pred = np.asarray(y_pred)
    labels = np.asarray(y_true).reshape(-1).astype(np.intp)
    if y_pred.ndim != 2 or labels.shape[0] != y_pred.shape[0]:
        raise ValueError(
            f"sparse_top_k_categorical_accuracy: y_true of shape {np.shape(y_true)} "
            f"needs y_pred of shape (N, classes) with the same N, got {y_pred.shape}"
        )
    hits = _in_top_k(y_pred, labels, _check_k(k))
    return np.mean(hits, axis=-1)


def _loss_metric(loss: losses.Loss) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def metric(y_true, y_pred):
        return loss.score(y_true, y_pred)

    metric.__name__ = loss.name
    return metric


def get(
    identifier: Any, custom_objects: Mapping[str, Any] | None = None
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A metric function from a metric name, a loss name or alias, or a callable
    (``custom_objects`` and the global custom objects first)."""
    if callable(identifier) and not isinstance(identifier, str):
        if isinstance(identifier, losses.Loss):
            return _loss_metric(identifier)
        return identifier
    if isinstance(identifier, str):
        found = _REGISTRY.find(identifier, custom_objects)
        if found is not None and not isinstance(found, str):
            return get(found)
        try:
            return _loss_metric(losses.get(identifier))
        except ValueError:
            known = ["acc", "accuracy", "ce", "crossentropy"] + _REGISTRY.names()
            raise ValueError(
                f"Unknown metric: {identifier!r}. Known metrics: {', '.join(known)}, or "
                f"any loss: {', '.join(losses.names())}"
            ) from None
    raise ValueError(
        f"Could not interpret metric identifier: {identifier!r}; expected a name or a "
        "callable f(y_true, y_pred)"
    )


def serialize(metric: Any) -> str:
    """The metric's name: a function's ``__name__`` (a loss's Keras name)."""
    if isinstance(metric, str):
        return metric
    name = getattr(metric, "name", None) or getattr(metric, "__name__", None)
    if not isinstance(name, str):
        raise ValueError(f"Cannot serialize metric {metric!r}: it has no name")
    return name


def deserialize(
    name: Any, custom_objects: Mapping[str, Any] | None = None
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The metric called ``name``."""
    if not isinstance(name, str):
        raise ValueError(
            f"Could not interpret serialized metric: {name!r}; expected a name"
        )
    return get(name, custom_objects)


def resolve(
    metric: Any, loss: losses.Loss, output_shape: tuple[int | None, ...]
) -> tuple[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]:
    """(history name, function) for one entry of ``compile(metrics=[...])``."""
    if isinstance(metric, str) and metric in ("accuracy", "acc", "crossentropy", "ce"):
        is_acc = metric in ("accuracy", "acc")
        if output_shape[-1] == 1 or loss.name == "binary_crossentropy":
            fn = (
                binary_accuracy
                if is_acc
                else _loss_metric(losses.get("binary_crossentropy"))
            )
        elif loss.sparse:
            fn = (
                sparse_categorical_accuracy
                if is_acc
                else _loss_metric(losses.get("sparse_categorical_crossentropy"))
            )
        else:
            fn = (
                categorical_accuracy
                if is_acc
                else _loss_metric(losses.get("categorical_crossentropy"))
            )
        return ("acc" if is_acc else "ce"), fn
    fn = get(metric)
    return getattr(fn, "name", None) or fn.__name__, fn
