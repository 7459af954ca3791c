"""``static_hyperparams=True``: the float hyperparameters are constants of the compiled
step (a plain optax transformation's way) instead of state. The same numbers as the
default (every golden trajectory), an empty ``state.hyperparams``, constants in the
compiled program, and clear errors where the two kinds of state meet."""

from __future__ import annotations

import numpy as np
import pytest

from gradstep import optimizers

from .._golden import golden_files, load_case
from ._util import assert_golden_trajectory_jit, jitted_step, x64

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
jnp = jax.numpy
gjax = pytest.importorskip("gradstep.jax")

CASES = golden_files()


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden_trajectory_with_static_hyperparams(path):
    assert_golden_trajectory_jit(load_case(path), static_hyperparams=True)


@pytest.mark.parametrize(
    "name,config",
    [("adam", {"lr": 0.01, "decay": 0.01}), ("nadam", {}), ("sgd", {"momentum": 0.9})],
)
def test_bitwise_the_state_held_hyperparameters(name, config):
    rng = np.random.default_rng(5)
    params = {"w": jnp.asarray(rng.standard_normal((4, 3)), jnp.float32)}
    grads = [
        {"w": jnp.asarray(rng.standard_normal((4, 3)), jnp.float32)} for _ in range(5)
    ]
    results = []
    for static in (False, True):
        tx = getattr(gjax, name)(**config, static_hyperparams=static)
        p, state = params, tx.init(params)
        step = jitted_step(tx)
        for g in grads:
            p, state = step(p, state, g)
        results.append((np.asarray(p["w"]), state))
    (dynamic, dynamic_state), (static, static_state) = results
    assert np.array_equal(dynamic, static)
    assert static_state.hyperparams == {} and dynamic_state.hyperparams
    for a, b in zip(
        jax.tree_util.tree_leaves(dynamic_state.slots),
        jax.tree_util.tree_leaves(static_state.slots),
    ):
        assert np.array_equal(np.asarray(a), np.asarray(b))


def test_hyperparameters_are_constants_of_the_program():
    params = [jnp.ones(8)]
    for static, operands in ((False, 6), (True, 0)):
        tx = gjax.adam(0.125, static_hyperparams=static)
        state = tx.init(params)
        scalars = [x for x in jax.tree_util.tree_leaves(state) if jnp.ndim(x) == 0]
        # count, and lr, beta_1, beta_2, decay, epsilon unless static
        assert len(scalars) == 1 + (0 if static else operands - 1)
        text = jax.jit(tx.update).lower([jnp.ones(8)], state, params).as_text()
        assert ("dense<1.250000e-01>" in text) == static  # lr folded into the program


def test_states_of_the_two_kinds_do_not_mix():
    params = [jnp.ones(3)]
    static, dynamic = gjax.adam(static_hyperparams=True), gjax.adam()
    with pytest.raises(ValueError, match="static_hyperparams=True"):
        static.update([jnp.ones(3)], dynamic.init(params), params)
    with pytest.raises(ValueError, match="static_hyperparams=True"):
        dynamic.update([jnp.ones(3)], static.init(params), params)
    with pytest.raises(ValueError, match="constants of the compiled step"):
        gjax.set_hyperparams(static.init(params), lr=0.1)
    with pytest.raises(TypeError, match="static_hyperparams must be True or False"):
        gjax.adam(static_hyperparams="yes")
    with pytest.raises(TypeError, match="static_hyperparams must be True or False"):
        gjax.get("adam", static_hyperparams=1)


def test_from_optimizer_with_static_hyperparams():
    """The optimizer's state carried over; the next step equals the NumPy one."""
    rng = np.random.default_rng(2)
    with x64():
        opt = optimizers.Adam(lr=0.02)
        params = [rng.standard_normal((3, 2)), rng.standard_normal(2)]
        for _ in range(3):
            opt.apply_gradients([(rng.standard_normal(p.shape), p) for p in params])
        tx, state = gjax.from_optimizer(opt, static_hyperparams=True)
        assert state.hyperparams == {} and int(state.count) == 3
        grads = [rng.standard_normal(p.shape) for p in params]
        before = [jnp.asarray(p) for p in params]
        updates, _ = jax.jit(tx.update)([jnp.asarray(g) for g in grads], state, before)
        opt.apply_gradients(list(zip(grads, params)))  # in place
        for b, u, want in zip(before, updates, params):
            np.testing.assert_allclose(np.asarray(b + u), want, rtol=1e-12, atol=0)
