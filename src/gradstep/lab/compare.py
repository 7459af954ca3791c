"""Train one model per optimizer from the same start on the same batches.

Fairness by construction: for each seed, one model is built with that seed and its
initial weights are copied into every optimizer's model with ``set_weights``; each epoch's
sample order is a permutation drawn from ``numpy.random.default_rng([seed, epoch])`` and
applied before ``fit(..., shuffle=False)`` for that one epoch, so every optimizer sees the
same batches in the same order. Dropout masks come from the model's generator, seeded
alike. A spec's learning-rate schedule runs through the model's ``LearningRateScheduler``.

Epochs are interleaved: each epoch's shuffled copy of the data is made once and every
optimizer trains one epoch on it in turn, so a slower moment of a shared machine falls on
all optimizers alike. Timing: before its first timed epoch, each optimizer trains a
throwaway copy of the model on one batch; that warm-up (kernel compilation for the fused
engine, first-call caches) is reported separately and is not part of any epoch's seconds.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import backend
from ._errors import LabError
from .data import LabData
from .model import LOSS, build_mlp
from .progress import Progress
from .records import EpochRow
from .specs import OptimizerSpec

__all__ = [
    "CompareSettings",
    "CompareResult",
    "run_compare",
    "epoch_order",
    "history_values",
]


@dataclass(frozen=True)
class CompareSettings:
    """What to train: optimizers, epochs, batch size, seeds and the MLP's shape."""

    specs: Sequence[OptimizerSpec]
    epochs: int
    batch_size: int
    seeds: Sequence[int]
    hidden: Sequence[int]
    activation: str = "relu"
    dropout: float = 0.0
    engine: str | None = "reference"
    kernel_initializer: str = "glorot_uniform"


@dataclass
class CompareResult:
    """Every epoch's row, and each optimizer's one-off warm-up seconds (not in the rows)."""

    rows: list[EpochRow]
    warmup_seconds: dict[str, float]


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The sample order of ``epoch`` (0-based) for ``seed``: the same for every optimizer."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def history_values(history: object) -> dict[str, float]:
    """loss, acc, val_loss, val_acc of the one epoch a ``History`` holds."""
    logs = getattr(history, "history", None)
    if not isinstance(logs, dict):
        raise LabError(f"fit() returned {history!r}, not a History")
    aliases = {"acc": ("acc", "accuracy"), "val_acc": ("val_acc", "val_accuracy")}
    values = {}
    for key in ("loss", "acc", "val_loss", "val_acc"):
        for name in aliases.get(key, (key,)):
            if name in logs:
                values[key] = float(logs[name][-1])
                break
        else:
            raise LabError(f"fit() History lacks {key!r} (it has {sorted(logs)})")
    return values


def _fresh_model(
    data: LabData, settings: CompareSettings, seed: int, spec: OptimizerSpec
):
    model = build_mlp(
        data.input_dim,
        data.num_classes,
        settings.hidden,
        settings.activation,
        settings.dropout,
        seed,
        settings.kernel_initializer,
    )
    model.compile(
        optimizer=spec.build(settings.engine), loss=LOSS, metrics=["accuracy"]
    )
    return model


def _scheduler(spec: OptimizerSpec, lr0: float) -> list[Any]:
    if spec.schedule is None:
        return []
    from ..callbacks import LearningRateScheduler

    schedule = spec.schedule
    return [LearningRateScheduler(lambda epoch, lr: float(schedule.rate(epoch, lr0)))]


def _warm_up(
    data: LabData, settings: CompareSettings, seed: int, spec: OptimizerSpec
) -> float:
    """Seconds one batch takes on a throwaway model (compilation, first-call caches)."""
    model = _fresh_model(data, settings, seed, spec)
    n = min(settings.batch_size, len(data.x_train))
    start = time.perf_counter()
    model.fit(
        data.x_train[:n],
        data.y_train[:n],
        batch_size=settings.batch_size,
        epochs=1,
        verbose=0,
        validation_data=(data.x_test[:n], data.y_test[:n]),
        shuffle=False,
    )
    return time.perf_counter() - start


class _Run:
    """One optimizer's model for one seed, trained an epoch at a time."""

    def __init__(
        self,
        data: LabData,
        settings: CompareSettings,
        seed: int,
        spec: OptimizerSpec,
        initial: list[np.ndarray],
    ) -> None:
        self.settings, self.seed, self.spec = settings, seed, spec
        self.model = _fresh_model(data, settings, seed, spec)
        self.model.set_weights(initial)
        self.callbacks = _scheduler(spec, float(self.model.optimizer.lr))

    def epoch(
        self,
        epoch: int,
        x: np.ndarray,
        y: np.ndarray,
        validation: tuple[np.ndarray, np.ndarray],
    ) -> EpochRow:
        """Train epoch ``epoch`` (0-based) on ``x, y``; its row."""
        start = time.perf_counter()
        history = self.model.fit(
            x,
            y,
            batch_size=self.settings.batch_size,
            epochs=epoch + 1,
            initial_epoch=epoch,
            verbose=0,
            callbacks=self.callbacks,
            validation_data=validation,
            shuffle=False,
        )
        seconds = time.perf_counter() - start
        values = history_values(history)
        lr = float(self.model.optimizer.lr)
        return EpochRow(
            self.spec.label, self.seed, epoch + 1, **values, seconds=seconds, lr=lr
        )


def train_one(
    data: LabData,
    settings: CompareSettings,
    seed: int,
    spec: OptimizerSpec,
    initial: list[np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
    on_epoch: Any = None,
) -> list[EpochRow]:
    """Train ``spec`` from ``initial`` weights for ``settings.epochs``; one row per epoch,
    validated on ``validation``."""
    run = _Run(data, settings, seed, spec, initial)
    rows = []
    for epoch in range(settings.epochs):
        order = epoch_order(seed, epoch, len(data.x_train))
        rows.append(
            run.epoch(epoch, data.x_train[order], data.y_train[order], validation)
        )
        if on_epoch is not None:
            on_epoch(rows[-1])
    return rows


def run_compare(
    data: LabData, settings: CompareSettings, progress: Progress | None = None
) -> CompareResult:
    """Train every optimizer for every seed, epochs interleaved; one ``EpochRow`` per
    epoch, ordered by seed, optimizer and epoch, and each optimizer's warm-up seconds."""
    rows: list[EpochRow] = []
    warmup: dict[str, float] = {}
    validation = (data.x_test, data.y_test)
    dtype = data.x_train.dtype.name
    previous_floatx = backend.floatx()
    backend.set_floatx(dtype)

    def report(row: EpochRow) -> None:
        if progress is not None:
            progress.update(
                f"{row.optimizer} seed {row.seed} epoch {row.epoch}/{settings.epochs} "
                f"loss {row.loss:.4g} test acc {row.val_acc:.3f}"
            )

    try:
        for seed in settings.seeds:
            first = _fresh_model(data, settings, seed, settings.specs[0])
            initial = [w.copy() for w in first.get_weights()]
            runs = []
            for spec in settings.specs:
                if spec.label not in warmup:
                    warmup[spec.label] = _warm_up(data, settings, seed, spec)
                runs.append(_Run(data, settings, seed, spec, initial))
            per_run: list[list[EpochRow]] = [[] for _ in runs]
            # One buffer per array, refilled in each epoch's order (no new allocation).
            x, y = np.empty_like(data.x_train), np.empty_like(data.y_train)
            for epoch in range(settings.epochs):
                order = epoch_order(seed, epoch, len(data.x_train))
                np.take(data.x_train, order, axis=0, out=x, mode="clip")
                np.take(data.y_train, order, axis=0, out=y, mode="clip")
                for run, out in zip(runs, per_run):
                    out.append(run.epoch(epoch, x, y, validation))
                    report(out[-1])
            for out in per_run:
                rows += out
    finally:
        backend.set_floatx(previous_floatx)
    return CompareResult(rows, warmup)
