"""gradstep.jax transformations inside optax's combinators, against the NumPy optimizer
doing the same by hand: ``chain`` after ``clip_by_global_norm``, ``MultiSteps``,
``apply_if_finite``; and non-finite gradients propagating as in Keras."""

from __future__ import annotations

import numpy as np
import pytest

from gradstep import optimizers

from ._util import jitted_step, x64

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
jnp = jax.numpy
gjax = pytest.importorskip("gradstep.jax")

RNG = np.random.default_rng(11)
START = [RNG.standard_normal((3, 4)), RNG.standard_normal(4)]
GRADS = [
    [RNG.standard_normal((3, 4)) * 3, RNG.standard_normal(4) * 3] for _ in range(6)
]


def _numpy(opt, grads):
    params = [p.copy() for p in START]
    for g in grads:
        opt.apply_gradients(zip(g, params))
    return params


def _jax(tx, grads):
    with x64():
        params = [jnp.asarray(p) for p in START]
        state = tx.init(params)
        step = jitted_step(tx)
        for g in grads:
            params, state = step(params, state, [jnp.asarray(x) for x in g])
        return [np.asarray(p) for p in params], state


def _close(got, want, rtol=1e-12):
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-15)


def test_chain_after_clip_by_global_norm_is_keras_clipnorm():
    with x64():
        tx = optax.chain(optax.clip_by_global_norm(2.0), gjax.adam(lr=0.01))
    got, _ = _jax(tx, GRADS)
    _close(got, _numpy(optimizers.Adam(lr=0.01, clipnorm=2.0), GRADS))


def test_multisteps_is_the_step_of_the_mean_gradient():
    with x64():
        tx = optax.MultiSteps(
            gjax.adamax(lr=0.02), every_k_schedule=2, accumulator_dtype=jnp.float64
        )
    got, state = _jax(tx, GRADS)
    means = [[(a + b) / 2 for a, b in zip(GRADS[i], GRADS[i + 1])] for i in (0, 2, 4)]
    _close(got, _numpy(optimizers.Adamax(lr=0.02), means))
    assert int(gjax.find_states(state)[0].count) == 3


def test_apply_if_finite_skips_the_non_finite_step():
    bad = [GRADS[0], [GRADS[1][0], np.full(4, np.nan)], *GRADS[2:]]
    with x64():
        tx = optax.apply_if_finite(gjax.rmsprop(lr=0.01, decay=0.1), 3)
    got, state = _jax(tx, bad)
    kept = [g for i, g in enumerate(bad) if i != 1]
    _close(got, _numpy(optimizers.RMSprop(lr=0.01, decay=0.1), kept))
    assert int(gjax.find_states(state)[0].count) == len(kept)


def test_non_finite_gradients_propagate_as_in_keras():
    bad = [[GRADS[0][0], np.array([np.nan, np.inf, 1.0, -1.0])], *GRADS[1:3]]
    got, _ = _jax(gjax.adam(lr=0.01), bad)
    want = _numpy(optimizers.Adam(lr=0.01), bad)
    np.testing.assert_array_equal(np.isnan(got[1]), np.isnan(want[1]))
    assert np.isnan(got[1][0]) and np.isnan(got[1][1])
    _close(got[0], want[0])
