"""Keras 2.2 metrics: the accuracies, and every loss usable as a metric.

A metric maps targets and predictions to a score per sample (the model reports its mean).
``resolve(metric, loss, output_shape)`` chooses as Keras 2.2.4's ``compile`` does:
'accuracy'/'acc' (reported as 'acc') and 'crossentropy'/'ce' (as 'ce') become the binary
version when the output has one unit or the loss is binary crossentropy, the sparse
version when the loss is sparse categorical crossentropy, else the categorical one. Any
other name is a metric or loss name and is reported under its full Keras name
('mse' -> 'mean_squared_error'); a callable ``f(y_true, y_pred)`` on NumPy arrays is
reported under its ``__name__``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import losses
from ._registry import Registry

__all__ = [
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "resolve",
    "get",
]

_REGISTRY = Registry("metric")


@_REGISTRY.register()
def binary_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """mean(y_true == round(y_pred)) over the last axis (round half to even, as tf)."""
    return np.mean(np.equal(y_true, np.round(y_pred)), axis=-1)


@_REGISTRY.register()
def categorical_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """1 where argmax(y_true) == argmax(y_pred)."""
    return np.equal(np.argmax(y_true, axis=-1), np.argmax(y_pred, axis=-1)).astype(
        y_pred.dtype
    )


@_REGISTRY.register()
def sparse_categorical_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """1 where the integer label equals argmax(y_pred)."""
    labels = np.asarray(y_true)
    if labels.shape == y_pred.shape[:-1] + (1,):
        labels = labels[..., 0]
    return np.equal(labels, np.argmax(y_pred, axis=-1)).astype(y_pred.dtype)


def _in_top_k(y_pred: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    # tf.nn.in_top_k: the label's score is among the k largest.
    target = np.take_along_axis(y_pred, labels[..., None], axis=-1)
    return (np.sum(y_pred > target, axis=-1) < k).astype(y_pred.dtype)


@_REGISTRY.register()
def top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> np.ndarray:
    """1 where argmax(y_true) is among the k largest predictions."""
    return _in_top_k(y_pred, np.argmax(y_true, axis=-1), k)


@_REGISTRY.register()
def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> np.ndarray:
    """1 where the integer label is among the k largest predictions."""
    labels = np.asarray(y_true)
    if labels.shape == y_pred.shape[:-1] + (1,):
        labels = labels[..., 0]
    return _in_top_k(y_pred, labels.astype(np.intp), k)


def _loss_metric(loss: losses.Loss) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def metric(y_true, y_pred):
        return loss.score(y_true, y_pred)

    metric.__name__ = loss.name
    return metric


def get(identifier: Any) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A metric function from a metric name, a loss name or alias, or a callable."""
    if callable(identifier) and not isinstance(identifier, str):
        if isinstance(identifier, losses.Loss):
            return _loss_metric(identifier)
        return identifier
    if isinstance(identifier, str):
        try:
            return _REGISTRY.lookup(identifier)
        except ValueError:
            pass
        try:
            return _loss_metric(losses.get(identifier))
        except ValueError:
            known = ["acc", "accuracy", "ce", "crossentropy"] + _REGISTRY.names()
            raise ValueError(
                f"Unknown metric: {identifier!r}. Known metrics: {', '.join(known)}, or "
                f"any loss: {', '.join(losses.names())}"
            ) from None
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


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
