"""Shared helpers for the model tests: central finite differences in float64."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numeric_grad(f: Callable[[], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """d f / d x by central differences, perturbing ``x`` in place (restored after)."""
    grad = np.zeros_like(x, dtype=np.float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        up = f()
        flat[i] = old - h
        down = f()
        flat[i] = old
        gflat[i] = (up - down) / (2 * h)
    return grad


def assert_grad_close(
    analytic: np.ndarray, numeric: np.ndarray, tol: float = 1e-6
) -> None:
    """Relative error of the whole gradient, with an absolute floor for tiny ones."""
    analytic = np.asarray(analytic, dtype=np.float64)
    scale = max(np.max(np.abs(numeric)), 1e-3)
    err = np.max(np.abs(analytic - numeric)) / scale
    assert err < tol, f"gradient mismatch: max rel err {err:.3e}\n{analytic}\n{numeric}"
    assert np.any(numeric != 0) or np.all(analytic == 0)
