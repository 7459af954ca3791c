"""Helpers of the gradstep.jax tests: float64 without leaking it, and a jitted step."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
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


def assert_golden_trajectory_jit(case: dict, static_hyperparams: bool = False) -> None:
    """Replay a golden case (``tests._golden.load_case``) through gradstep.jax under
    ``jax.jit`` in float64: relative error <= 1e-10 at every step."""
    import numpy as np

    import gradstep.jax as gjax

    jnp = jax.numpy
    with x64():
        config = {"class_name": case["optimizer"], "config": case["config"]}
        tx = gjax.get(config, static_hyperparams=static_hyperparams)
        params = [jnp.asarray(p) for p in case["params"]]
        state = tx.init(params)
        step = jitted_step(tx)
        for n, (grads, expected) in enumerate(zip(case["grads"], case["expected"])):
            params, state = step(params, state, [jnp.asarray(g) for g in grads])
            for i, (actual, want) in enumerate(zip(params, expected)):
                assert actual.dtype == jnp.float64
                np.testing.assert_allclose(
                    np.asarray(actual),
                    want,
                    rtol=1e-10,
                    atol=0,
                    err_msg=f"step {n + 1}, param {i}",
                )
        assert int(state.count) == len(case["grads"])


def run_on_two_devices(code: str) -> str:
    """Run ``code`` in a fresh interpreter with 2 simulated CPU devices (XLA reads the
    device count once per process); its stdout, after asserting that it succeeded."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout
