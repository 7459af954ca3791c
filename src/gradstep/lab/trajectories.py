"""Run optimizers on 2-D test functions from one start and record their paths."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .functions import TestFunction
from .specs import OptimizerSpec

__all__ = ["Path2D", "run_path", "run_all", "BOUND"]

BOUND = 1e6  # a path whose |x| or |y| exceeds this is called diverged and stopped


@dataclass
class Path2D:
    """One optimizer's path on one function.

    ``points``: (k + 1, 2) float64, the start then each step's point. ``reached_at``: the
    first step at which the goal was met (within ``tol`` of a minimum, or below the escape
    level), or None. ``diverged_at``: the step at which the point or gradient stopped being
    finite or left ``BOUND``, or None.
    """

    function: str
    label: str
    points: np.ndarray
    reached_at: int | None
    diverged_at: int | None

    def final_value(self, fn: TestFunction) -> float:
        """f at the last point."""
        with np.errstate(all="ignore"):
            return float(fn.value(*self.points[-1]))


def goal_step(fn: TestFunction, points: np.ndarray, tol: float) -> int | None:
    """The first index of ``points`` meeting ``fn``'s goal, or None."""
    if fn.minima:
        minima = np.asarray(fn.minima, dtype=np.float64)
        distance = np.linalg.norm(points[:, None, :] - minima[None, :, :], axis=2).min(
            axis=1
        )
        hits = np.flatnonzero(distance <= tol)
    elif fn.escape_level is not None:
        with np.errstate(all="ignore"):
            values = fn.value(points[:, 0], points[:, 1])
        hits = np.flatnonzero(values <= fn.escape_level)
    else:
        return None
    return int(hits[0]) if hits.size else None


def run_path(fn: TestFunction, spec: OptimizerSpec, steps: int, tol: float) -> Path2D:
    """``steps`` optimizer steps on ``fn`` from ``fn.start`` (float64), stopping early at
    divergence; the optimizer's own ``apply_gradients`` makes every step."""
    optimizer = spec.build(
        engine="reference"
    )  # two numbers: nothing to compile or fuse
    point = np.array(fn.start, dtype=np.float64)
    points = [point.copy()]
    diverged_at = None
    with np.errstate(all="ignore"):  # overflow is detected below and ends the path
        for step in range(1, steps + 1):
            grad = fn.gradient(point)
            if not np.all(np.isfinite(grad)):
                diverged_at = step
                break
            optimizer.apply_gradients([(grad, point)])
            if not np.all(np.isfinite(point)) or np.abs(point).max() > BOUND:
                diverged_at = step
                break
            points.append(point.copy())
    array = np.asarray(points)
    return Path2D(fn.name, spec.label, array, goal_step(fn, array, tol), diverged_at)


def run_all(
    functions: list[TestFunction],
    specs: list[OptimizerSpec],
    steps: int,
    tol: float,
) -> list[list[Path2D]]:
    """``paths[i][j]``: optimizer ``specs[j]`` on ``functions[i]``."""
    return [[run_path(fn, spec, steps, tol) for spec in specs] for fn in functions]


def legend_text(path: Path2D, fn: TestFunction, steps: int) -> str:
    """``"adam: 312 steps"``, ``"sgd: diverged at step 5"``, ``"adagrad: not reached"``."""
    if path.reached_at is not None:
        verb = "escaped in" if not fn.minima else "reached in"
        return f"{path.label}: {verb} {path.reached_at} steps"
    if path.diverged_at is not None:
        return f"{path.label}: diverged at step {path.diverged_at}"
    if fn.minima:
        minima = np.asarray(fn.minima, dtype=np.float64)
        gap = float(np.linalg.norm(minima - path.points[-1], axis=1).min())
        return f"{path.label}: not reached in {steps} steps (off by {gap:.2g})"
    if fn.escape_level is not None:
        return f"{path.label}: not escaped in {steps} steps"
    return f"{path.label}: f = {path.final_value(fn):.3g} after {steps} steps"
