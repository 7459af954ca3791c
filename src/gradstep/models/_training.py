"""The loops behind fit, evaluate and predict (Keras 2.2.4's training_arrays).

An epoch's 'loss' and metrics are the sample-weighted means of the batch values, each
measured before that batch's update; the last partial batch is a step of its own.
Validation runs after the last batch with the test loop (batch means weighted by batch
size). All checks happen before the first step.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..callbacks import CallbackList, History, ProgbarLogger
from . import _data

__all__ = ["fit", "evaluate", "predict", "prepare", "unwrap"]


def unwrap(values: list[float]) -> Any:
    """A single float when there is only the loss, else the list (Keras's convention)."""
    return values[0] if len(values) == 1 else values


def _check_int(value: Any, name: str, low: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value < low
    ):
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _input_name(model: Any) -> str:
    return f"{model.layers[0].name}_input"


def _inputs(model: Any, x: Any) -> np.ndarray:
    if not model.layers:
        raise TypeError("The model is empty: add layers before using it")
    if x is None:
        raise ValueError("x is required: pass the input array")
    if not model.built:
        array = _data._single_array(x, "input")
        model.build((None, *array.shape[1:]))
    return _data.as_inputs(
        x,
        model.layers[0].batch_input_shape or model.input_shape,
        model.dtype,
        _input_name(model),
    )


def prepare(model: Any, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Checked, converted (x, y) for a compiled model; builds the model if needed."""
    model._check_compiled()
    x = _inputs(model, x)
    model._check_compiled()
    if y is None:
        raise ValueError("y is required: pass the target array")
    y = _data.as_targets(
        y, model.loss, model.output_shape, model.dtype, model.layers[-1].name
    )
    _data.check_same_length(x, y)
    return x, y


def _batches(n: int, batch_size: int) -> list[tuple[int, int]]:
    count = int(math.ceil(n / float(batch_size)))
    return [(i * batch_size, min(n, (i + 1) * batch_size)) for i in range(count)]


def _gather(array: np.ndarray, ids: np.ndarray, buffers: dict, key: str) -> np.ndarray:
    out = buffers.get((key, len(ids)))
    if out is None:
        out = buffers[(key, len(ids))] = np.empty(
            (len(ids), *array.shape[1:]), array.dtype
        )
    # mode="clip" writes straight into ``out`` ("raise" buffers it); ``ids`` come from
    # a permutation of range(len(array)), so nothing is clipped.
    return np.take(array, ids, axis=0, out=out, mode="clip")


def _validation(model, x, y, validation_split, validation_data):
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(
            validation_data
        ) not in (2, 3):
            raise ValueError(
                "When passing validation_data, it must contain 2 (x_val, y_val) or 3 "
                f"(x_val, y_val, val_sample_weights) items, however it contains "
                f"{len(validation_data) if hasattr(validation_data, '__len__') else '?'} items"
            )
        if len(validation_data) == 3 and validation_data[2] is not None:
            raise ValueError("validation sample weights are not supported; pass None")
        vx, vy = prepare(model, validation_data[0], validation_data[1])
        return x, y, (vx, vy)
    if validation_split:
        if not (
            isinstance(validation_split, (int, float)) and 0 < validation_split < 1
        ):
            raise ValueError(
                f"validation_split must be in [0, 1), got {validation_split!r}"
            )
        split_at = int(len(x) * (1.0 - validation_split))
        if split_at == 0 or split_at == len(x):
            raise ValueError(
                f"validation_split={validation_split} leaves no training or no validation "
                f"samples out of {len(x)}"
            )
        return x[:split_at], y[:split_at], (x[split_at:], y[split_at:])
    return x, y, None


def fit(
    model,
    x,
    y,
    batch_size,
    epochs,
    verbose,
    callbacks,
    validation_split,
    validation_data,
    shuffle,
    initial_epoch,
):
    batch_size = 32 if batch_size is None else _check_int(batch_size, "batch_size", 1)
    epochs = _check_int(epochs, "epochs", 0)
    initial_epoch = _check_int(initial_epoch, "initial_epoch", 0)
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
    if shuffle not in (True, False, "batch"):
        raise ValueError(f"shuffle must be True, False or 'batch', got {shuffle!r}")
    x, y = prepare(model, x, y)
    x, y, val = _validation(model, x, y, validation_split, validation_data)
    user_callbacks = list(callbacks or [])
    model.history = History()
    chain = (
        ([ProgbarLogger(verbose)] if verbose else []) + user_callbacks + [model.history]
    )
    callback_list = CallbackList(chain)
    grads, params = model._trainable_pairs()
    if not params:
        raise ValueError("the model has no trainable weights; there is nothing to fit")

    out_labels = model.metrics_names
    metric_keys = out_labels + (
        ["val_" + n for n in out_labels] if val is not None else []
    )
    n = len(x)
    if verbose and val is not None:
        print(f"Train on {n} samples, validate on {len(val[0])} samples")
    callback_list.set_model(model)
    callback_list.set_params(
        {
            "batch_size": batch_size,
            "epochs": epochs,
            "steps": None,
            "samples": n,
            "verbose": verbose,
            "do_validation": val is not None,
            "metrics": metric_keys,
        }
    )
    for cb in callback_list.callbacks:
        cb.validation_data = list(val) if val is not None else None
    callback_list.on_train_begin()
    model.stop_training = False
    batches = _batches(n, batch_size)
    buffers: dict = {}
    for epoch in range(initial_epoch, epochs):
        callback_list.on_epoch_begin(epoch, {})
        epoch_logs: dict[str, Any] = {}
        index = _epoch_order(model, n, batch_size, shuffle)
        totals = [0.0] * len(out_labels)
        seen = 0
        for batch_index, (start, end) in enumerate(batches):
            if index is None:
                xb, yb = x[start:end], y[start:end]
            else:
                ids = index[start:end]
                xb, yb = _gather(x, ids, buffers, "x"), _gather(y, ids, buffers, "y")
            batch_logs: dict[str, Any] = {"batch": batch_index, "size": end - start}
            callback_list.on_batch_begin(batch_index, batch_logs)
            outs = model._train_step(xb, yb)
            for i, (label, value) in enumerate(zip(out_labels, outs)):
                batch_logs[label] = value
                totals[i] += value * (end - start)
            seen += end - start
            callback_list.on_batch_end(batch_index, batch_logs)
            if model.stop_training:
                break
        for label, total in zip(out_labels, totals):
            epoch_logs[label] = total / seen
        if val is not None and not model.stop_training:
            val_outs = _test_loop(model, val[0], val[1], batch_size)
            for label, value in zip(out_labels, val_outs):
                epoch_logs["val_" + label] = value
        callback_list.on_epoch_end(epoch, epoch_logs)
        if model.stop_training:
            break
    callback_list.on_train_end()
    return model.history


def _epoch_order(model, n, batch_size, shuffle):
    if shuffle is False:
        return None
    rng = model._rngs.train
    if shuffle == "batch":
        count = n // batch_size
        blocks = np.arange(count * batch_size).reshape(count, batch_size)
        order = blocks[rng.permutation(count)].reshape(-1)
        return np.concatenate([order, np.arange(count * batch_size, n)])
    return rng.permutation(n)


def _test_loop(model, x, y, batch_size, bar=None):
    totals: list[float] = []
    for start, end in _batches(len(x), batch_size):
        outs = model._test_step(x[start:end], y[start:end])
        if not totals:
            totals = [0.0] * len(outs)
        for i, value in enumerate(outs):
            totals[i] += value * (end - start)
        if bar is not None:
            bar.update(end, {})
    return [t / len(x) for t in totals]


def evaluate(model, x, y, batch_size, verbose):
    batch_size = 32 if batch_size is None else _check_int(batch_size, "batch_size", 1)
    x, y = prepare(model, x, y)
    bar = None
    if verbose:
        from .._progress import EpochBar

        bar = EpochBar(len(x), 1, [])
    values = _test_loop(model, x, y, batch_size, bar)
    if bar is not None:
        bar.close({})
    return unwrap(values)


def predict(model, x, batch_size, verbose):
    batch_size = 32 if batch_size is None else _check_int(batch_size, "batch_size", 1)
    x = _inputs(model, x)
    out = np.empty((len(x), *model.output_shape[1:]), dtype=model.dtype)
    for start, end in _batches(len(x), batch_size):
        out[start:end] = model._forward(x[start:end], training=False)
    return out
