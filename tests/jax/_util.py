"""Helpers of the gradstep.jax tests: float64 without leaking it, and a jitted step."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")


@contextlib.contextmanager
def x64() -> Iterator[None]:
    """float64 inside the block only (``jax_enable_x64`` for this thread)."""
    enable = getattr(jax, "enable_x64", None)  # jax.experimental's before jax 0.7
    if enable is None:
        from jax.experimental import enable_x64 as enable
    with enable(True):
        yield


def jitted_step(tx: Any) -> Any:
    """``(params, state, grads) -> (params, state)`` under ``jax.jit``."""

    @jax.jit
    def step(params: Any, state: Any, grads: Any) -> tuple[Any, Any]:
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    return step
