"""``fit_generator``, ``evaluate_generator`` and ``predict_generator`` (Keras 2.2.4's
``training_generator``), reading batches from a Python generator (any iterator) or a
``gradstep.utils.Sequence``.

Batches are read in the calling thread, in order: ``workers=0`` and ``workers=1`` give
the same batches as Keras (which reads with ``workers=1`` in one background thread);
``workers > 1`` and ``use_multiprocessing=True`` are refused (``ValueError``), and
``max_queue_size`` is checked but unused (there is no queue). A Sequence is read as
Keras 2.2.4 reads it (see ``_Reader``): with ``workers=0`` in order, never calling
``on_epoch_end``; with ``workers=1`` shuffled by Python's ``random`` each pass when
``shuffle=True`` and ``on_epoch_end()`` between passes. ``steps_per_epoch``/``steps``
default to ``len(sequence)``; a plain generator needs them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..utils import Sequence
from . import _training

__all__ = ["fit_generator", "evaluate_generator", "predict_generator"]

_PARAMS = ("max_queue_size", "workers", "use_multiprocessing")


def _check_reading(max_queue_size: Any, workers: Any, use_multiprocessing: Any) -> None:
    _training.check_int(max_queue_size, "max_queue_size", 1)
    workers = _training.check_int(workers, "workers", 0)
    if workers > 1:
        raise ValueError(
            f"workers={workers} is not supported: gradstep reads batches in the calling "
            "thread; pass workers=0 or 1"
        )
    if use_multiprocessing:
        raise ValueError(
            "use_multiprocessing=True is not supported: gradstep reads batches in the "
            "calling thread; pass False"
        )


def _steps(generator: Any, steps: Any, what: str) -> int:
    if steps is None:
        if isinstance(generator, Sequence):
            return len(generator)
        raise ValueError(
            f"`{what}=None` is only valid for a generator based on the "
            f"`gradstep.utils.Sequence` class. Please specify `{what}` or use the "
            "`gradstep.utils.Sequence` class."
        )
    return _training.check_int(steps, what, 1)


class _Reader:
    """Batches from a generator or Sequence, forever. A Sequence is read pass after
    pass as Keras 2.2.4 reads it: with ``workers=0`` in order and nothing else; with
    ``workers=1`` (its OrderedEnqueuer) each pass in the order Python's
    ``random.shuffle`` leaves one list shuffled again and again when ``shuffle`` (so
    ``random.seed`` gives Keras's order), and ``on_epoch_end()`` between passes."""

    def __init__(self, source: Any, shuffle: bool, workers: int) -> None:
        self.source, self.shuffle, self.workers = source, shuffle, workers
        self.is_sequence = isinstance(source, Sequence)
        if not self.is_sequence:
            if not isinstance(source, Iterator):
                if not hasattr(source, "__iter__"):
                    raise TypeError(
                        "expected a generator (iterator) or a gradstep.utils.Sequence, "
                        f"got {type(source).__name__}"
                    )
                source = iter(source)
            self.iterator = source
        self._order: list[int] = []
        self._sequence: list[int] = []
        self._passes = 0

    def next(self) -> Any:
        if not self.is_sequence:
            try:
                return next(self.iterator)
            except StopIteration:
                raise ValueError(
                    "the generator is exhausted: it must yield at least steps_per_epoch "
                    "* epochs batches (loop forever, as Keras expects)"
                ) from None
        if not self._order:
            n = len(self.source)
            if n == 0:
                raise ValueError("the Sequence is empty (len 0)")
            if self.workers > 0 and self._passes:
                self.source.on_epoch_end()
            if len(self._sequence) != n:
                self._sequence = list(range(n))
            if self.workers > 0 and self.shuffle:
                random.shuffle(self._sequence)  # in place, pass after pass, as Keras
            self._order = list(self._sequence)
            self._passes += 1
        return self.source[self._order.pop(0)]


def _unpack(output: Any) -> tuple[Any, Any, Any]:
    if not isinstance(output, tuple) or len(output) not in (2, 3):
        raise ValueError(
            "Output of generator should be a tuple `(x, y, sample_weight)` or `(x, y)`. "
            f"Found: {output!r:.200}"
        )
    return output[0], output[1], output[2] if len(output) == 3 else None


def _batch_size(x: Any) -> int:
    if x is None:
        return 1
    if isinstance(x, (list, tuple)):
        return int(np.shape(x[0])[0]) if len(x) else 1
    if isinstance(x, dict):
        return int(np.shape(next(iter(x.values())))[0]) if x else 1
    return int(np.shape(x)[0])


def fit_generator(
    model: Any,
    generator: Any,
    steps_per_epoch: Any = None,
    epochs: int = 1,
    verbose: int = 1,
    callbacks: Any = None,
    validation_data: Any = None,
    validation_steps: Any = None,
    class_weight: Any = None,
    max_queue_size: int = 10,
    workers: int = 1,
    use_multiprocessing: bool = False,
    shuffle: bool = True,
    initial_epoch: int = 0,
) -> Any:
    """Train on batches ``(x, y)`` or ``(x, y, sample_weight)`` from ``generator``;
    returns a ``History`` (epoch values: batch values weighted by batch size)."""
    model._check_compiled()
    _check_reading(max_queue_size, workers, use_multiprocessing)
    epochs = _training.check_int(epochs, "epochs", 0)
    initial_epoch = _training.check_int(initial_epoch, "initial_epoch", 0)
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
    steps_per_epoch = _steps(generator, steps_per_epoch, "steps_per_epoch")
    val_gen = validation_data is not None and (
        isinstance(validation_data, Sequence) or hasattr(validation_data, "__next__")
    )
    val_arrays = None
    if validation_data is not None and not val_gen:
        if not isinstance(validation_data, (tuple, list)) or len(
            validation_data
        ) not in (
            2,
            3,
        ):
            raise ValueError(
                "`validation_data` should be a tuple `(val_x, val_y, val_sample_weight)` "
                "or `(val_x, val_y)`, or a generator or Sequence. Found: "
                f"{validation_data!r:.100}"
            )
        vsw = validation_data[2] if len(validation_data) == 3 else None
        val_arrays = _training.prepare(
            model, validation_data[0], validation_data[1], vsw
        )
    if val_gen:
        validation_steps = _steps(validation_data, validation_steps, "validation_steps")
    reader = _Reader(generator, bool(shuffle), workers)
    val_reader = _Reader(validation_data, False, workers) if val_gen else None
    do_validation = validation_data is not None
    callback_list = _training.make_callbacks(model, callbacks, verbose)
    out_labels = model.metrics_names
    callback_list.set_model(model)
    callback_list.set_params(
        {
            "epochs": epochs,
            "steps": steps_per_epoch,
            "verbose": verbose,
            "do_validation": do_validation,
            "metrics": out_labels + ["val_" + n for n in out_labels] * do_validation,
        }
    )
    cb_val = _training.callback_validation_data(model, val_arrays)
    callback_list.on_train_begin()
    for cb in callback_list.callbacks:  # after on_train_begin, as Keras 2.2.4
        cb.validation_data = cb_val
    model.stop_training = False
    for epoch in range(initial_epoch, epochs):
        callback_list.on_epoch_begin(epoch, {})
        epoch_logs: dict[str, Any] = {}
        totals = [0.0] * len(out_labels)
        seen = 0
        batch_size = 1
        for batch_index in range(steps_per_epoch):
            x, y, sw = _unpack(reader.next())
            batch_size = _batch_size(x)
            batch_logs: dict[str, Any] = {"batch": batch_index, "size": batch_size}
            callback_list.on_batch_begin(batch_index, batch_logs)
            outs = model.train_on_batch(
                x, y, sample_weight=sw, class_weight=class_weight
            )
            outs = outs if isinstance(outs, list) else [outs]
            for i, (label, value) in enumerate(zip(out_labels, outs)):
                batch_logs[label] = value
                totals[i] += value * batch_size
            seen += batch_size
            callback_list.on_batch_end(batch_index, batch_logs)
            if model.stop_training:
                break
        for label, total in zip(out_labels, totals):
            epoch_logs[label] = total / seen if seen else 0.0
        if do_validation and not model.stop_training:
            if val_gen:  # one reader for the whole run, as Keras's enqueuer
                val_outs = _evaluate(model, val_reader, validation_steps)
            else:
                val_outs = _training.test_loop(model, val_arrays, batch_size)
            val_outs = val_outs if isinstance(val_outs, list) else [val_outs]
            for label, value in zip(out_labels, val_outs):
                epoch_logs["val_" + label] = value
        callback_list.on_epoch_end(epoch, epoch_logs)
        if model.stop_training:
            break
    callback_list.on_train_end()
    return model.history


def evaluate_generator(
    model: Any,
    generator: Any,
    steps: Any = None,
    max_queue_size: int = 10,
    workers: int = 1,
    use_multiprocessing: bool = False,
    verbose: int = 0,
) -> Any:
    """The loss (and metrics) over ``steps`` batches, averaged weighted by batch size."""
    model._check_compiled()
    _check_reading(max_queue_size, workers, use_multiprocessing)
    steps = _steps(generator, steps, "steps")
    return _evaluate(model, _Reader(generator, False, workers), steps)


def _evaluate(model: Any, reader: _Reader, steps: int) -> Any:
    totals: list[float] = []
    seen = 0
    for _ in range(steps):
        x, y, sw = _unpack(reader.next())
        outs = model.test_on_batch(x, y, sample_weight=sw)
        outs = outs if isinstance(outs, list) else [outs]
        size = _batch_size(x)
        if not totals:
            totals = [0.0] * len(outs)
        for i, value in enumerate(outs):
            totals[i] += value * size
        seen += size
    return _training.unwrap([t / seen for t in totals])


def predict_generator(
    model: Any,
    generator: Any,
    steps: Any = None,
    max_queue_size: int = 10,
    workers: int = 1,
    use_multiprocessing: bool = False,
    verbose: int = 0,
) -> Any:
    """The outputs for ``steps`` batches of inputs (``x``, or ``(x, ...)`` tuples whose
    first item is used), concatenated."""
    _check_reading(max_queue_size, workers, use_multiprocessing)
    steps = _steps(generator, steps, "steps")
    reader = _Reader(generator, False, workers)
    chunks: list[list[np.ndarray]] = []
    for _ in range(steps):
        out = reader.next()
        if isinstance(out, tuple):
            if len(out) not in (2, 3):
                raise ValueError(
                    "Output of generator should be a tuple `(x, y, sample_weight)` or "
                    f"`(x, y)`, or x alone. Found: {out!r:.200}"
                )
            out = out[0]
        result = model.predict_on_batch(out)
        chunks.append(result if isinstance(result, list) else [result])
    outs = [np.concatenate([c[i] for c in chunks]) for i in range(len(chunks[0]))]
    return _training.unwrap(outs)
