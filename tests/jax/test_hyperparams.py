"""The float hyperparameters live in the state: changing the learning rate between jitted
steps gives what the NumPy optimizer gives when ``opt.lr`` changes, and compiles once."""

from __future__ import annotations

import numpy as np
import pytest

from gradstep import optimizers

from ._util import x64

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
jnp = jax.numpy
gjax = pytest.importorskip("gradstep.jax")


@pytest.mark.parametrize(
    "name,config",
    [("adam", {"lr": 0.01, "decay": 0.01}), ("nadam", {"lr": 0.01}), ("sgd", {})],
)
def test_lr_changes_without_recompiling(name, config):
    rng = np.random.default_rng(3)
    start = rng.standard_normal(6)
    grads = [rng.standard_normal(6) for _ in range(6)]
    lrs = [None, None, 0.003, None, 0.05, None]  # new lr before steps 3 and 5
    traces = []
    with x64():
        tx = getattr(gjax, name)(**config)

        @jax.jit
        def step(params, state, g):
            traces.append(1)
            updates, state = tx.update(g, state, params)
            return optax.apply_updates(params, updates), state

        params = jnp.asarray(start)
        state = tx.init(params)
        for i, (g, lr) in enumerate(zip(grads, lrs)):
            if lr is not None and i == 2:
                state = gjax.set_hyperparams(state, lr=lr)
            elif lr is not None:
                # in place, as with optax.inject_hyperparams; a dtype, not weak-typed
                state.hyperparams["lr"] = jnp.asarray(lr, jnp.float64)
            params, state = step(params, state, jnp.asarray(g))
        assert float(state.hyperparams["lr"]) == 0.05

    opt = optimizers.get({"class_name": name, "config": config})
    p = start.copy()
    for g, lr in zip(grads, lrs):
        if lr is not None:
            opt.lr = lr
        opt.apply_gradients([(g, p)])
    np.testing.assert_allclose(np.asarray(params), p, rtol=1e-12)
    assert len(traces) == 1, f"the step was traced {len(traces)} times"
    assert step._cache_size() == 1


def test_set_hyperparams_reaches_inside_chain_and_keeps_dtype():
    tx = optax.chain(optax.clip(1.0), gjax.rmsprop(lr=0.1))
    state = tx.init({"w": jnp.zeros(3)})
    new = gjax.set_hyperparams(state, lr=0.5, rho=0.8)
    (inner,) = gjax.find_states(new)
    assert float(inner.hyperparams["lr"]) == 0.5
    assert float(inner.hyperparams["rho"]) == pytest.approx(0.8)
    assert inner.hyperparams["lr"].dtype == jnp.float32
    assert float(gjax.find_states(state)[0].hyperparams["lr"]) == pytest.approx(0.1)
    with pytest.raises(KeyError, match="no hyperparameter 'beta_1'.*lr, rho"):
        gjax.set_hyperparams(state, beta_1=0.5)
    with pytest.raises(ValueError, match="lr"):
        gjax.set_hyperparams(state, lr=-0.5)
    with pytest.raises(ValueError, match="rho"):
        gjax.set_hyperparams(state, rho=1.5)
    with pytest.raises(TypeError, match="no gradstep.jax state"):
        gjax.set_hyperparams(optax.sgd(0.1).init(jnp.zeros(1)), lr=0.5)


def test_state_holds_counter_slots_and_m_schedule():
    rng = np.random.default_rng(4)
    start = rng.standard_normal(5)
    grads = [rng.standard_normal(5) for _ in range(4)]
    opt = optimizers.Nadam(lr=0.01)
    p = start.copy()
    for g in grads:
        opt.apply_gradients([(g, p)])
    weights = opt.get_weights()  # iterations, m_schedule, m, v
    with x64():
        tx = gjax.nadam(lr=0.01)
        params = jnp.asarray(start)
        state = tx.init(params)
        for g in grads:
            updates, state = jax.jit(tx.update)(jnp.asarray(g), state, params)
            params = optax.apply_updates(params, updates)
        assert int(state.count) == int(weights[0]) == 4
        assert float(state.scalars["m_schedule"]) == pytest.approx(
            float(weights[1]), rel=1e-14
        )
        np.testing.assert_allclose(np.asarray(state.slots["m"]), weights[2], rtol=1e-12)
        np.testing.assert_allclose(np.asarray(state.slots["v"]), weights[3], rtol=1e-12)
        assert sorted(state.hyperparams) == sorted(
            ["lr", "beta_1", "beta_2", "epsilon", "schedule_decay"]
        )
