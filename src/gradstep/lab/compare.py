"""Train one model per optimizer from the same start on the same batches.

Fairness by construction: for each seed, one model is built with that seed and its
initial weights are copied into every optimizer's model with ``set_weights``; each epoch's
sample order is a permutation drawn from ``numpy.random.default_rng([seed, epoch])`` and
applied before ``fit(..., shuffle=False, epochs=1)``, so every optimizer sees the same
batches in the same order. Dropout masks come from the model's generator, seeded alike.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import backend
from ._errors import LabError
from .data import LabData
from .model import LOSS, build_mlp
from .progress import Progress
from .records import EpochRow
from .specs import OptimizerSpec

__all__ = ["CompareSettings", "run_compare", "epoch_order", "history_values"]


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
    )
    model.compile(
        optimizer=spec.build(settings.engine), loss=LOSS, metrics=["accuracy"]
    )
    return model


def run_compare(
    data: LabData, settings: CompareSettings, progress: Progress | None = None
) -> list[EpochRow]:
    """Train every optimizer for every seed; one ``EpochRow`` per epoch, in run order."""
    rows: list[EpochRow] = []
    n = len(data.x_train)
    validation = (data.x_test, data.y_test)
    dtype = data.x_train.dtype.name
    previous_floatx = backend.floatx()
    backend.set_floatx(dtype)
    try:
        for seed in settings.seeds:
            initial = [
                w.copy()
                for w in _fresh_model(
                    data, settings, seed, settings.specs[0]
                ).get_weights()
            ]
            for spec in settings.specs:
                model = _fresh_model(data, settings, seed, spec)
                model.set_weights(initial)
                for epoch in range(settings.epochs):
                    order = epoch_order(seed, epoch, n)
                    x, y = data.x_train[order], data.y_train[order]
                    start = time.perf_counter()
                    history = model.fit(
                        x,
                        y,
                        batch_size=settings.batch_size,
                        epochs=1,
                        verbose=0,
                        validation_data=validation,
                        shuffle=False,
                    )
                    seconds = time.perf_counter() - start
                    values = history_values(history)
                    rows.append(
                        EpochRow(spec.label, seed, epoch + 1, **values, seconds=seconds)
                    )
                    if progress is not None:
                        progress.update(
                            f"{spec.label} seed {seed} epoch {epoch + 1}/{settings.epochs} "
                            f"loss {values['loss']:.4g} test acc {values['val_acc']:.3f}"
                        )
    finally:
        backend.set_floatx(previous_floatx)
    return rows
