"""Keras 2.2.4 callbacks: hooks called by ``fit`` at the start and end of training,
epochs and batches, with the same logs and the same decisions as Keras.

``fit`` builds the list [progress display (verbose > 0), your callbacks..., History]; the
epoch logs handed to ``on_epoch_end`` already hold the epoch's averages ('loss', 'acc',
and 'val_*' when validating), as Keras's BaseLogger leaves them.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ._progress import EpochBar

__all__ = [
    "Callback",
    "CallbackList",
    "ProgbarLogger",
    "History",
    "LearningRateScheduler",
    "ReduceLROnPlateau",
    "EarlyStopping",
    "ModelCheckpoint",
    "CSVLogger",
    "LambdaCallback",
    "TerminateOnNaN",
    "BaseLogger",
    "RemoteMonitor",
]

Logs = dict[str, Any]


class Callback:
    """Base class: override any of the ``on_*`` methods. ``self.model`` is the model
    being trained and ``self.params`` the fit settings (epochs, samples, metrics, ...)."""

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}
        self.validation_data: Any = None

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def set_model(self, model: Any) -> None:
        self.model = model

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None: ...
    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_train_begin(self, logs: Logs | None = None) -> None: ...
    def on_train_end(self, logs: Logs | None = None) -> None: ...


class CallbackList:
    """Calls every callback of a list in order."""

    def __init__(self, callbacks: Iterable[Callback]) -> None:
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"callbacks must be Callback instances, got {type(cb).__name__}"
                )

    def set_params(self, params: dict[str, Any]) -> None:
        for cb in self.callbacks:
            cb.set_params(params)

    def set_model(self, model: Any) -> None:
        for cb in self.callbacks:
            cb.set_model(model)

    def _call(self, method: str, *args: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, method)(*args)

    def on_epoch_begin(self, epoch: int, logs: Logs) -> None:
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        self._call("on_epoch_end", epoch, logs)

    def on_batch_begin(self, batch: int, logs: Logs) -> None:
        self._call("on_batch_begin", batch, logs)

    def on_batch_end(self, batch: int, logs: Logs) -> None:
        self._call("on_batch_end", batch, logs)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._call("on_train_begin", logs or {})

    def on_train_end(self, logs: Logs | None = None) -> None:
        self._call("on_train_end", logs or {})


class BaseLogger(Callback):
    """Keras 2.2.4's ``BaseLogger``: at the end of each epoch, sets ``logs[k]`` to the
    sample-weighted mean over the epoch's batches of each ``params['metrics']`` key (the
    last value for ``stateful_metrics``). ``fit`` already puts these averages in the
    epoch logs; adding a BaseLogger recomputes them the same way."""

    def __init__(self, stateful_metrics: Iterable[str] | None = None) -> None:
        super().__init__()
        self.stateful_metrics = set(stateful_metrics or ())

    def on_epoch_begin(self, epoch, logs=None):
        self.seen = 0
        self.totals: dict[str, Any] = {}

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        batch_size = logs.get("size", 0)
        self.seen += batch_size
        for k, v in logs.items():
            if k in self.stateful_metrics:
                self.totals[k] = v
            else:
                self.totals[k] = self.totals.get(k, 0) + v * batch_size

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        for k in self.params.get("metrics", []):
            if k in self.totals:
                if k in self.stateful_metrics:
                    logs[k] = self.totals[k]
                elif self.seen:
                    logs[k] = self.totals[k] / self.seen


class ProgbarLogger(Callback):
    """'Epoch 3/10' and a progress bar (verbose=1) or one line per epoch (verbose=2).

    Keras's arguments are accepted: ``count_mode`` ('samples': the bar counts samples;
    'steps': batches, out of ``params['steps']``) and ``stateful_metrics`` (shown as their
    last value, not averaged). ``ProgbarLogger('steps')`` is read as Keras reads it."""

    def __init__(
        self,
        verbose: int | str = 1,
        stream: Any = None,
        count_mode: str = "samples",
        stateful_metrics: Iterable[str] | None = None,
    ) -> None:
        super().__init__()
        if isinstance(verbose, str):  # Keras's first argument is count_mode
            verbose, count_mode = 1, verbose
        if count_mode not in ("samples", "steps"):
            raise ValueError(
                f"Unknown `count_mode`: {count_mode!r}; expected 'samples' or 'steps'"
            )
        self.verbose, self.stream = verbose, stream
        self.count_mode = count_mode
        self.stateful_metrics = set(stateful_metrics or ())

    def on_epoch_begin(self, epoch, logs=None):
        out = self.stream or sys.stdout
        out.write(f"Epoch {epoch + 1}/{self.params['epochs']}\n")
        if self.count_mode == "steps":
            total = self.params.get("steps") or self.params.get("samples")
        else:
            total = self.params.get("samples") or self.params.get("steps")
        self._bar = EpochBar(total, self.verbose, self.params["metrics"], out)
        self._seen, self._totals = 0, {}
        self._samples = 0

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        size = logs.get("size", 0)
        self._samples += size
        self._seen += 1 if self.count_mode == "steps" else size
        shown = {}
        for k in self.params["metrics"]:
            if k in logs and k in self.stateful_metrics:
                shown[k] = float(logs[k])
            elif k in logs:
                self._totals[k] = self._totals.get(k, 0.0) + float(logs[k]) * size
                shown[k] = self._totals[k] / max(self._samples, 1)
        self._bar.update(self._seen, shown)

    def on_epoch_end(self, epoch, logs=None):
        self._bar.close(logs or {})


class History(Callback):
    """Records the epoch logs: ``history.history['loss']`` etc.; ``history.epoch``."""

    def on_train_begin(self, logs=None):
        self.epoch: list[int] = []
        self.history: dict[str, list[Any]] = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


class LearningRateScheduler(Callback):
    """Sets ``optimizer.lr = schedule(epoch, lr)`` (or ``schedule(epoch)``) at the start
    of each epoch (epochs counted from 0); adds the epoch's rate to the logs as "lr", as
    Keras 2.2.4 does (so History records it)."""

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self.model.optimizer, "lr"):
            raise ValueError('Optimizer must have a "lr" attribute.')
        lr = float(self.model.optimizer.lr)
        try:
            lr = self.schedule(epoch, lr)
        except TypeError:  # the one-argument form of Keras 2.0
            lr = self.schedule(epoch)
        if not isinstance(lr, (float, np.float32, np.float64)):
            raise ValueError('The output of the "schedule" function should be float.')
        self.model.optimizer.lr = float(lr)
        if self.verbose > 0:
            print(
                f"\nEpoch {epoch + 1:05d}: LearningRateScheduler setting learning rate "
                f"to {lr}."
            )

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:  # Keras 2.2.4: History records each epoch's rate
            logs["lr"] = float(self.model.optimizer.lr)


def _monitor_op(mode: str, monitor: str, what: str) -> str:
    if mode not in ("auto", "min", "max"):
        warnings.warn(
            f"{what} mode {mode} is unknown, fallback to auto mode.",
            RuntimeWarning,
            stacklevel=3,
        )
        mode = "auto"
    if mode == "auto":
        return "max" if "acc" in monitor or monitor.startswith("fmeasure") else "min"
    return mode


class ReduceLROnPlateau(Callback):
    """Multiplies ``optimizer.lr`` by ``factor`` when ``monitor`` has not improved by
    ``min_delta`` for ``patience`` epochs; then waits ``cooldown`` epochs; never below
    ``min_lr``. Adds 'lr' to the epoch logs (so History records it), as Keras."""

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        if "epsilon" in kwargs:  # Keras 2.1's name for min_delta
            min_delta = kwargs.pop("epsilon")
            warnings.warn(
                "`epsilon` argument is deprecated and will be removed, use `min_delta` "
                "instead.",
                stacklevel=2,
            )
        if kwargs:
            raise TypeError(f"Unexpected keyword argument: {next(iter(kwargs))}")
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau does not support a factor >= 1.0.")
        self.monitor, self.factor, self.patience = monitor, factor, patience
        self.verbose, self.mode, self.min_delta = verbose, mode, min_delta
        self.cooldown, self.min_lr = cooldown, min_lr
        self._reset()

    def _reset(self) -> None:
        self.mode = _monitor_op(
            self.mode, self.monitor, "Learning Rate Plateau Reducing"
        )
        if self.mode == "min":
            self.monitor_op = lambda a, b: np.less(a, b - self.min_delta)
            self.best = np.inf
        else:
            self.monitor_op = lambda a, b: np.greater(a, b + self.min_delta)
            self.best = -np.inf
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["lr"] = float(self.model.optimizer.lr)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Reduce LR on plateau conditioned on metric `{self.monitor}` which is not "
                f"available. Available metrics are: {','.join(logs)}",
                RuntimeWarning,
                stacklevel=2,
            )
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor_op(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.cooldown_counter > 0:
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(self.model.optimizer.lr)
                if old_lr > self.min_lr:
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    self.model.optimizer.lr = new_lr
                    if self.verbose > 0:
                        print(
                            f"\nEpoch {epoch + 1:05d}: ReduceLROnPlateau reducing learning "
                            f"rate to {new_lr}."
                        )
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class EarlyStopping(Callback):
    """Stops training when ``monitor`` has not improved by more than ``min_delta`` for
    ``patience`` epochs; optionally restores the best epoch's weights."""

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
    ) -> None:
        super().__init__()
        self.monitor, self.patience, self.verbose = monitor, patience, verbose
        self.baseline, self.restore_best_weights = baseline, restore_best_weights
        self.best_weights: Any = None
        mode = _monitor_op(mode, monitor, "EarlyStopping")
        self.monitor_op = np.less if mode == "min" else np.greater
        self.min_delta = (
            abs(min_delta) if self.monitor_op is np.greater else -abs(min_delta)
        )

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        if self.baseline is not None:
            self.best = self.baseline
        else:
            self.best = np.inf if self.monitor_op is np.less else -np.inf

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not "
                f"available. Available metrics are: {','.join(logs or {})}",
                RuntimeWarning,
                stacklevel=2,
            )
            return
        if self.monitor_op(current - self.min_delta, self.best):
            self.best = current
            self.wait = 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True
                if self.restore_best_weights and self.best_weights is not None:
                    if self.verbose > 0:
                        print("Restoring model weights from the end of the best epoch")
                    self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1:05d}: early stopping")


class ModelCheckpoint(Callback):
    """Saves the model (``model.save``) or its weights after every ``period`` epochs;
    ``filepath`` may hold ``{epoch:02d}`` and log keys such as ``{val_loss:.2f}``."""

    def __init__(
        self,
        filepath: str,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        period: int = 1,
    ) -> None:
        super().__init__()
        self.filepath, self.monitor, self.verbose = (
            os.fspath(filepath),
            monitor,
            verbose,
        )
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.period, self.epochs_since_last_save = period, 0
        mode = _monitor_op(mode, monitor, "ModelCheckpoint")
        self.monitor_op = np.less if mode == "min" else np.greater
        self.best = np.inf if mode == "min" else -np.inf

    def _save(self, filepath: str) -> None:
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epochs_since_last_save += 1
        if self.epochs_since_last_save < self.period:
            return
        self.epochs_since_last_save = 0
        filepath = self.filepath.format(epoch=epoch + 1, **logs)
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1:05d}: saving model to {filepath}")
            self._save(filepath)
            return
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Can save best model only with {self.monitor} available, skipping.",
                RuntimeWarning,
                stacklevel=2,
            )
        elif self.monitor_op(current, self.best):
            if self.verbose > 0:
                print(
                    f"\nEpoch {epoch + 1:05d}: {self.monitor} improved from "
                    f"{self.best:0.5f} to {current:0.5f}, saving model to {filepath}"
                )
            self.best = current
            self._save(filepath)
        elif self.verbose > 0:
            print(
                f"\nEpoch {epoch + 1:05d}: {self.monitor} did not improve from {self.best:0.5f}"
            )


class CSVLogger(Callback):
    """Writes one CSV row per epoch: 'epoch' then the log keys in sorted order."""

    def __init__(
        self, filename: str, separator: str = ",", append: bool = False
    ) -> None:
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.keys: list[str] | None = None
        self.writer: Any = None
        self.csv_file: io.TextIOBase | None = None

    def on_train_begin(self, logs=None):
        append_header = not (
            self.append
            and os.path.exists(self.filename)
            and os.path.getsize(self.filename) > 0
        )
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115
        self._header = append_header
        self.keys, self.writer = None, None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        if self.model.stop_training:
            logs = {k: logs.get(k, "NA") for k in self.keys}
        if self.writer is None:
            self.writer = csv.DictWriter(
                self.csv_file, fieldnames=["epoch", *self.keys], delimiter=self.sep
            )
            if self._header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((k, logs.get(k, "NA")) for k in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None:
            self.csv_file.close()
        self.writer = None


class LambdaCallback(Callback):
    """A callback from functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_batch_begin=None,
        on_batch_end=None,
        on_train_begin=None,
        on_train_end=None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        hooks = dict(
            on_epoch_begin=on_epoch_begin,
            on_epoch_end=on_epoch_end,
            on_batch_begin=on_batch_begin,
            on_batch_end=on_batch_end,
            on_train_begin=on_train_begin,
            on_train_end=on_train_end,
        )
        hooks.update(kwargs)
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)


class TerminateOnNaN(Callback):
    """Stops training when a batch loss is NaN or infinite."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class RemoteMonitor(Callback):
    """Keras 2.2.4's ``RemoteMonitor``: POSTs ``{'epoch': epoch, **logs}`` to
    ``root + path`` at the end of each epoch, as JSON (``send_as_json=True``) or as the
    form field ``field`` holding the JSON text (the default, as Keras). Uses the
    standard library (Keras needs ``requests``); a server that cannot be reached gives a
    warning, as in Keras, not an error. ``timeout`` (seconds) bounds each request."""

    def __init__(
        self,
        root: str = "http://localhost:9000",
        path: str = "/publish/epoch/end/",
        field: str = "data",
        headers: dict[str, str] | None = None,
        send_as_json: bool = False,
        timeout: float = 10.0,
    ) -> None:
        super().__init__()
        for name, value in (("root", root), ("path", path), ("field", field)):
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a string, got {type(value).__name__}")
        if not root.startswith(("http://", "https://")):
            raise ValueError(f"root must be an http:// or https:// URL, got {root!r}")
        self.root, self.path, self.field = root, path, field
        self.headers = dict(headers or {})
        self.send_as_json = bool(send_as_json)
        self.timeout = timeout

    def _payload(self, epoch: int, logs: Logs) -> dict[str, Any]:
        send: dict[str, Any] = {"epoch": epoch}
        for k, v in logs.items():
            send[k] = v.item() if isinstance(v, (np.ndarray, np.generic)) else v
        return send

    def on_epoch_end(self, epoch, logs=None):
        send = self._payload(epoch, logs or {})
        headers = dict(self.headers)
        if self.send_as_json:
            body = json.dumps(send).encode()
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(
            self.root + self.path, data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except (urllib.error.URLError, OSError, ValueError):
            warnings.warn(
                f"Warning: could not reach RemoteMonitor root server at {self.root}",
                stacklevel=2,
            )
