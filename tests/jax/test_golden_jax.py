"""Every golden trajectory through gradstep.jax under ``jax.jit``: float64, relative
error <= 1e-10 at every step; and float32 runs against float64 within float32's
tolerance."""

from __future__ import annotations

import numpy as np
import pytest

from .._golden import golden_files, load_case
from ..cases import all_configs, config_ids
from ._util import assert_golden_trajectory_jit, jitted_step, x64

jax = pytest.importorskip("jax")
jnp = jax.numpy
gjax = pytest.importorskip("gradstep.jax")

CASES = golden_files()
CONFIGS = all_configs()


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden_trajectory_jit_float64(path):
    assert_golden_trajectory_jit(load_case(path))


@pytest.mark.parametrize("name,config", CONFIGS, ids=config_ids(CONFIGS))
def test_float32_follows_float64(name, config):
    rng = np.random.default_rng(7)
    shapes = [(5, 3), (4,)]
    start = [rng.standard_normal(s) for s in shapes]
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(10)]

    def run(dtype):
        tx = gjax.get({"class_name": name, "config": config})
        params = {f"p{i}": jnp.asarray(p, dtype) for i, p in enumerate(start)}
        state = tx.init(params)
        step = jitted_step(tx)
        for g in grads:
            g = {f"p{i}": jnp.asarray(x, dtype) for i, x in enumerate(g)}
            params, state = step(params, state, g)
        return [np.asarray(params[f"p{i}"]) for i in range(len(shapes))], state

    with x64():
        want, _ = run(jnp.float64)
    got, state = run(jnp.float32)
    for slot in jax.tree_util.tree_leaves(state.slots):
        assert slot.dtype == jnp.float32
    for g, w in zip(got, want):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-6)
