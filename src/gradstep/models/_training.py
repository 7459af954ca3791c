"""The loops behind fit, evaluate and predict (Keras 2.2.4's training_arrays).

An epoch's 'loss' and metrics are the means of the batch values weighted by batch size,
each measured before that batch's update; the last partial batch is a step of its own.
Validation runs after the last batch with the test loop (batch means weighted by batch
size). All checks happen before the first step.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..callbacks import CallbackList, History, ProgbarLogger
from . import _standardize

__all__ = ["fit", "evaluate", "predict", "on_batch", "unwrap", "prepare"]


def unwrap(values: list[Any]) -> Any:
    """A single value when there is only one, else the list (Keras's convention)."""
    return values[0] if len(values) == 1 else values


def check_int(value: Any, name: str, low: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value < low
    ):
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def prepare(
    model: Any, x: Any, y: Any, sample_weight: Any = None, class_weight: Any = None
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray | None]]:
    """Checked, converted inputs, targets and weights for a compiled model."""
    model._check_compiled()
    xs = _standardize.inputs(model, x)
    model._check_compiled()
    model._claim()
    ys = _standardize.targets(model, y)
    sws = _standardize.weights(model, ys, sample_weight, class_weight)
    if len(xs[0]) != len(ys[0]):
        raise ValueError(
            "Input arrays should have the same number of samples as target arrays. Found "
            f"{len(xs[0])} input samples and {len(ys[0])} target samples."
        )
    return xs, ys, sws


def _batches(n: int, batch_size: int) -> list[tuple[int, int]]:
    count = int(math.ceil(n / float(batch_size)))
    return [(i * batch_size, min(n, (i + 1) * batch_size)) for i in range(count)]


def _gather(array: np.ndarray, ids: np.ndarray, buffers: dict, key: Any) -> np.ndarray:
    out = buffers.get((key, len(ids)))
    if out is None:
        out = buffers[(key, len(ids))] = np.empty(
            (len(ids), *array.shape[1:]), array.dtype
        )
    # mode="clip" writes straight into ``out`` ("raise" buffers it); ``ids`` come from
    # a permutation of range(len(array)), so nothing is clipped.
    return np.take(array, ids, axis=0, out=out, mode="clip")


def _take(arrays: list[Any], start: int, end: int) -> list[Any]:
    return [None if a is None else a[start:end] for a in arrays]


def _validation(model, data, validation_split, validation_data):
    xs, ys, sws = data
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(
            validation_data
        ) not in (2, 3):
            count = len(validation_data) if hasattr(validation_data, "__len__") else "?"
            raise ValueError(
                "When passing validation_data, it must contain 2 (x_val, y_val) or 3 "
                f"(x_val, y_val, val_sample_weights) items, however it contains {count} "
                "items"
            )
        vsw = validation_data[2] if len(validation_data) == 3 else None
        val = prepare(model, validation_data[0], validation_data[1], vsw)
        return data, val
    if validation_split:
        if not (
            isinstance(validation_split, (int, float))
            and not isinstance(validation_split, bool)
            and 0 < validation_split < 1
        ):
            raise ValueError(
                f"validation_split must be in [0, 1), got {validation_split!r}"
            )
        n = len(xs[0])
        split_at = int(n * (1.0 - validation_split))
        if split_at == 0 or split_at == n:
            raise ValueError(
                f"validation_split={validation_split} leaves no training or no validation "
                f"samples out of {n}"
            )
        head = tuple(_take(a, 0, split_at) for a in data)
        tail = tuple(_take(a, split_at, n) for a in data)
        return head, tail
    return data, None


def callback_validation_data(model: Any, val: Any) -> list[Any] | None:
    """What Keras 2.2.4 gives callbacks as ``validation_data``: inputs, targets, sample
    weights (ones where none were given), and 0.0 (the learning phase) when the model
    has layers that behave differently in training."""
    if val is None:
        return None
    xs, ys, sws = val
    weights = [
        np.ones(len(y), dtype=model.dtype) if w is None else w for y, w in zip(ys, sws)
    ]
    out = [*xs, *ys, *weights]
    if model.uses_learning_phase:
        out.append(0.0)
    return out


def make_callbacks(model, callbacks, verbose):
    model.history = History()
    chain = (
        ([ProgbarLogger(verbose)] if verbose else [])
        + list(callbacks or [])
        + [model.history]
    )
    return CallbackList(chain)


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
    class_weight,
    sample_weight,
    initial_epoch,
):
    batch_size = 32 if batch_size is None else check_int(batch_size, "batch_size", 1)
    epochs = check_int(epochs, "epochs", 0)
    initial_epoch = check_int(initial_epoch, "initial_epoch", 0)
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
    if shuffle not in (True, False, "batch"):
        raise ValueError(f"shuffle must be True, False or 'batch', got {shuffle!r}")
    data = prepare(model, x, y, sample_weight, class_weight)
    model._check_trainable()
    data, val = _validation(model, data, validation_split, validation_data)
    callback_list = make_callbacks(model, callbacks, verbose)
    if not model._train_params:
        raise ValueError("the model has no trainable weights; there is nothing to fit")
    xs, ys, sws = data
    out_labels = model.metrics_names
    metric_keys = out_labels + (
        ["val_" + n for n in out_labels] if val is not None else []
    )
    n = len(xs[0])
    if verbose and val is not None:
        print(f"Train on {n} samples, validate on {len(val[0][0])} samples")
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
    cb_val = callback_validation_data(model, val)
    callback_list.on_train_begin()
    for cb in callback_list.callbacks:  # after on_train_begin, as Keras 2.2.4
        cb.validation_data = cb_val
    model.stop_training = False
    batches = _batches(n, batch_size)
    buffers: dict = {}
    everything = [*xs, *ys, *sws]
    for epoch in range(initial_epoch, epochs):
        callback_list.on_epoch_begin(epoch, {})
        epoch_logs: dict[str, Any] = {}
        index = _epoch_order(model, n, batch_size, shuffle)
        totals = [0.0] * len(out_labels)
        seen = 0
        for batch_index, (start, end) in enumerate(batches):
            if index is None:
                parts = _take(everything, start, end)
            else:
                ids = index[start:end]
                parts = [
                    None if a is None else _gather(a, ids, buffers, k)
                    for k, a in enumerate(everything)
                ]
            bx = parts[: len(xs)]
            by = parts[len(xs) : len(xs) + len(ys)]
            bw = parts[len(xs) + len(ys) :]
            batch_logs: dict[str, Any] = {"batch": batch_index, "size": end - start}
            callback_list.on_batch_begin(batch_index, batch_logs)
            outs = model._train_step(bx, by, bw)
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
            val_outs = test_loop(model, val, batch_size)
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


def test_loop(model, data, batch_size, bar=None):
    xs, ys, sws = data
    n = len(xs[0])
    totals: list[float] = []
    for start, end in _batches(n, batch_size):
        outs = model._test_step(
            _take(xs, start, end), _take(ys, start, end), _take(sws, start, end)
        )
        if not totals:
            totals = [0.0] * len(outs)
        for i, value in enumerate(outs):
            totals[i] += value * (end - start)
        if bar is not None:
            bar.update(end, {})
    return [t / n for t in totals]


def evaluate(model, x, y, batch_size, verbose, sample_weight=None):
    batch_size = 32 if batch_size is None else check_int(batch_size, "batch_size", 1)
    data = prepare(model, x, y, sample_weight)
    bar = None
    if verbose:
        from .._progress import EpochBar

        bar = EpochBar(len(data[0][0]), 1, [])
    values = test_loop(model, data, batch_size, bar)
    if bar is not None:
        bar.close({})
    return unwrap(values)


def on_batch(model, x, y, sample_weight, class_weight, train):
    xs, ys, sws = prepare(model, x, y, sample_weight, class_weight)
    if train:
        model._check_trainable()
        if not model._train_params:
            raise ValueError(
                "the model has no trainable weights; there is nothing to fit"
            )
        return unwrap(model._train_step(xs, ys, sws))
    return unwrap(model._test_step(xs, ys, sws))


def predict(model, x, batch_size, verbose, whole=False):
    xs = _standardize.inputs(model, x)
    model._claim()
    n = len(xs[0])
    if whole:
        batch_size = max(n, 1)
    batch_size = 32 if batch_size is None else check_int(batch_size, "batch_size", 1)
    shapes = model._output_shapes()
    outs = [np.empty((n, *s[1:]), dtype=model.dtype) for s in shapes]
    for start, end in _batches(n, batch_size):
        for out, value in zip(outs, model._predict_step(_take(xs, start, end))):
            out[start:end] = value
    return unwrap(outs)
