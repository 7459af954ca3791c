"""``--tune lr``: pick each optimizer's learning rate on held-out training data.

For every optimizer, a small log-spaced grid around its starting rate (``lr0 * 10**k``
for k in -1, -0.5, 0, 0.5, 1) is trained for a few epochs on the training split minus a
held-out part (the last sixth of a fixed permutation of the training samples, never the
test split), from the same initial weights on the same batches. The rate with the lowest
held-out loss at the end wins (a diverged run, NaN, never does); the comparison then
trains every optimizer with its chosen rate on the full training split.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from .compare import CompareSettings, _fresh_model, train_one
from .data import LabData
from .specs import OptimizerSpec, make_spec

__all__ = ["GRID_EXPONENTS", "tune_learning_rates", "held_out_split"]

GRID_EXPONENTS = (-1.0, -0.5, 0.0, 0.5, 1.0)
HELD_OUT_FRACTION = 6  # one sample in six


def held_out_split(data: LabData, seed: int) -> tuple[LabData, tuple[np.ndarray, ...]]:
    """The training data minus a held-out sixth, and that sixth as ``(x, y)``."""
    n = len(data.x_train)
    order = np.random.default_rng([seed, 2**31 - 1]).permutation(n)
    held = max(1, n // HELD_OUT_FRACTION)
    if n - held < 1:
        held = 0
    keep, out = order[: n - held], order[n - held :]
    train = replace(data, x_train=data.x_train[keep], y_train=data.y_train[keep])
    return train, (data.x_train[out], data.y_train[out])


def _base_lr(spec: OptimizerSpec) -> float:
    for key in ("lr", "learning_rate"):
        if key in spec.settings:
            return float(spec.settings[key])
    return float(spec.build().lr)


def _with_lr(spec: OptimizerSpec, lr: float, label: str | None = None) -> OptimizerSpec:
    settings = {k: v for k, v in spec.settings.items() if k != "learning_rate"}
    settings["lr"] = lr
    if spec.schedule is not None:
        settings["schedule"] = spec.schedule
    return make_spec(spec.name, settings, label)


def tune_learning_rates(
    data: LabData, settings: CompareSettings, epochs: int, progress: Any = None
) -> tuple[list[OptimizerSpec], dict[str, Any]]:
    """Specs with each optimizer's chosen rate (label ``"<label>, lr=<rate>"``) and the
    report: grid, held-out size, epochs per trial and the total budget in epochs."""
    seed = settings.seeds[0]
    train, held = held_out_split(data, seed)
    trial = replace(settings, epochs=epochs)
    first = _fresh_model(train, trial, seed, settings.specs[0])
    initial = [w.copy() for w in first.get_weights()]
    chosen, grid_report = [], {}
    for spec in settings.specs:
        lr0 = _base_lr(spec)
        trials = []
        for exponent in GRID_EXPONENTS:
            lr = float(f"{lr0 * 10**exponent:.3g}")
            candidate = _with_lr(spec, lr, f"{spec.label} [tune lr={lr:g}]")
            rows = train_one(train, trial, seed, candidate, initial, held, progress)
            loss = rows[-1].val_loss
            trials.append(
                {"lr": lr, "held_out_loss": loss, "held_out_acc": rows[-1].val_acc}
            )
        finite = [t for t in trials if math.isfinite(t["held_out_loss"])]
        best = min(finite, key=lambda t: t["held_out_loss"]) if finite else trials[2]
        grid_report[spec.label] = {"trials": trials, "chosen_lr": best["lr"]}
        chosen.append(_with_lr(spec, best["lr"], f"{spec.label}, lr={best['lr']:g}"))
    report = {
        "parameter": "lr",
        "grid": "lr0 * 10**k for k in " + ", ".join(f"{k:g}" for k in GRID_EXPONENTS),
        "held_out_samples": len(held[0]),
        "train_samples": len(train.x_train),
        "epochs_per_trial": epochs,
        "seed": seed,
        "budget_epochs": epochs * len(GRID_EXPONENTS) * len(settings.specs),
        "criterion": "lowest held-out loss after the last epoch",
        "optimizers": grid_report,
    }
    return chosen, report
