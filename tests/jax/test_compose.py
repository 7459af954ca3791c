"""gradstep.jax transformations inside optax's combinators, against the NumPy optimizer
doing the same by hand: ``chain`` after ``clip_by_global_norm``, ``MultiSteps``,
``apply_if_finite``; and non-finite gradients propagating as in Keras. Also optax's other
wrappers (flatten, masked, lookahead, schedule_free, ...) around the optax flavour,
against the same wrappers around optax's own transformation."""

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


# optax's wrappers of a transformation: gradstep.jax's optax flavour inside each gives
# optax's own algorithm inside it. name -> (wrap, how the step calls update)
WRAPPERS = {
    "flatten": (optax.flatten, None),
    "masked": (lambda t: optax.masked(t, {"a": True, "b": False}), None),
    "apply_every": (lambda t: optax.chain(t, optax.apply_every(2)), None),
    "lookahead": (
        lambda t: optax.lookahead(t, sync_period=3, slow_step_size=0.5),
        "lookahead",
    ),
    "add_decayed_weights": (
        lambda t: optax.chain(optax.add_decayed_weights(1e-2), t),
        None,
    ),
    "reduce_on_plateau": (
        lambda t: optax.chain(t, optax.contrib.reduce_on_plateau(patience=1)),
        "value",
    ),
    "schedule_free": (
        lambda t: optax.contrib.schedule_free(t, learning_rate=0.1),
        None,
    ),
    "multi_transform": (
        lambda t: optax.multi_transform(
            {"x": t, "y": optax.set_to_zero()}, {"a": "x", "b": "y"}
        ),
        None,
    ),
}


def _wrapped_run(tx, how, steps=8):
    start = {"a": jnp.arange(6.0).reshape(2, 3), "b": jnp.array([0.5, -1.0])}

    def loss(p):
        return jnp.sum(p["a"] ** 2) + jnp.sum(jnp.sin(p["b"]))

    params = optax.LookaheadParams.init_synced(start) if how == "lookahead" else start
    state = tx.init(params)

    @jax.jit
    def step(params, state):
        fast = params.fast if how == "lookahead" else params
        extra = {"value": loss(params)} if how == "value" else {}
        updates, state = tx.update(jax.grad(loss)(fast), state, params, **extra)
        return optax.apply_updates(params, updates), state

    for _ in range(steps):
        params, state = step(params, state)
    return jax.tree.leaves(params)


@pytest.mark.parametrize("wrapper", list(WRAPPERS))
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_optax_wrappers_around_the_optax_flavour_equal_optax(wrapper, optimizer):
    wrap, how = WRAPPERS[wrapper]
    lr = 1.0 if wrapper == "schedule_free" else 0.1
    with x64():
        if optimizer == "sgd":
            ours = gjax.sgd(lr, momentum=0.9, flavour="optax")
            theirs = optax.sgd(lr, momentum=0.9)
        else:
            ours, theirs = gjax.adam(lr, flavour="optax"), optax.adam(lr)
        got = _wrapped_run(wrap(ours), how)
        want = _wrapped_run(wrap(theirs), how)
        for a, b in zip(got, want):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=0)
        start = _wrapped_run(wrap(ours), how, steps=0)
        assert any(not np.array_equal(a, b) for a, b in zip(got, start))  # it moved
