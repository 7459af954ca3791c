"""``OptaxOptimizer``: an optax transformation behind gradstep's optimizer interface, for
``model.compile``: the steps, ``lr`` where the state has an injected one, ``iterations``,
weights, and the errors."""

from __future__ import annotations

import numpy as np
import pytest

from gradstep import optimizers
from gradstep.layers import Dense
from gradstep.models import Sequential
from gradstep.optimizers import OptaxOptimizer

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
jnp = jax.numpy
gjax = pytest.importorskip("gradstep.jax")

RNG = np.random.default_rng(21)
X = RNG.standard_normal((32, 4)).astype(np.float32)
Y = RNG.standard_normal((32, 2)).astype(np.float32)


def _fit(optimizer):
    model = Sequential([Dense(3, input_dim=4, activation="tanh"), Dense(2)], seed=3)
    model.compile(optimizer, "mse")
    model.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    return model


def test_model_compile_with_a_gradstep_jax_transformation_matches_numpy():
    ours = _fit(OptaxOptimizer(gjax.adam(lr=0.01, clipnorm=1.0)))
    want = _fit(optimizers.Adam(lr=0.01, clipnorm=1.0))
    for a, b in zip(ours.get_weights(), want.get_weights()):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)
    assert ours.optimizer.iterations == 8
    assert ours.optimizer.lr == pytest.approx(0.01)


def test_model_compile_with_optax_adamw_matches_optax_itself():
    model = _fit(OptaxOptimizer(optax.adamw(1e-2)))
    # the same batches through optax directly, from the same initial weights
    start = Sequential([Dense(3, input_dim=4, activation="tanh"), Dense(2)], seed=3)
    start.compile(OptaxOptimizer(optax.adamw(1e-2)), "mse")
    tx = optax.adamw(1e-2)
    params = [jnp.asarray(w) for w in start.get_weights()]
    state = tx.init(params)
    probe = Sequential([Dense(3, input_dim=4, activation="tanh"), Dense(2)], seed=3)
    probe.compile(optimizers.SGD(lr=0.0), "mse")
    for _ in range(2):
        for i in range(0, 32, 8):
            probe.set_weights([np.asarray(p) for p in params])
            before = [w.copy() for w in probe.get_weights()]
            spy = _GradSpy()
            probe.optimizer = spy
            probe.train_on_batch(X[i : i + 8], Y[i : i + 8])
            assert all(
                np.array_equal(a, b) for a, b in zip(before, probe.get_weights())
            )
            updates, state = tx.update(
                [jnp.asarray(g) for g in spy.grads], state, params
            )
            params = optax.apply_updates(params, updates)
    for a, b in zip(model.get_weights(), params):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-7)


class _GradSpy:
    """Records the gradients of one step and changes nothing."""

    iterations = 0

    def apply_gradients(self, pairs):
        self.grads = [g.copy() for g, _ in pairs]


def test_lr_of_an_injected_transformation_is_read_and_set_without_recompiling():
    opt = OptaxOptimizer(optax.inject_hyperparams(optax.sgd)(learning_rate=0.1))
    assert opt.lr == pytest.approx(0.1)
    opt.lr = 0.5  # before the first step: applied when the state is made
    w = np.ones(3, np.float32)
    opt.apply_gradients([(np.full(3, 1.0, np.float32), w)])
    np.testing.assert_allclose(w, 0.5)
    opt.lr = 0.25
    opt.apply_gradients([(np.full(3, 1.0, np.float32), w)])
    np.testing.assert_allclose(w, 0.25)
    assert opt.lr == pytest.approx(0.25)
    assert opt.iterations == 2
    assert opt._step._cache_size() == 1


def test_lr_without_an_injected_one_raises():
    opt = OptaxOptimizer(optax.adam(1e-3))
    with pytest.raises(AttributeError, match="inject_hyperparams"):
        opt.lr  # noqa: B018
    with pytest.raises(AttributeError, match="no injected learning rate"):
        opt.lr = 0.1


def test_weights_round_trip_into_a_new_wrapper():
    grads = [np.full((2, 2), 0.3, np.float32), np.full((2, 2), -0.7, np.float32)]
    a, w = OptaxOptimizer(gjax.nadam()), np.ones((2, 2), np.float32)
    a.apply_gradients([(grads[0], w)])
    weights = a.get_weights()
    b, v = OptaxOptimizer(gjax.nadam()), w.copy()
    with pytest.raises(ValueError, match="build"):
        b.set_weights(weights)
    b.build([v])
    with pytest.raises(ValueError, match="Length"):
        b.set_weights(weights[:-1])
    b.set_weights(weights)
    assert b.iterations == 1
    a.apply_gradients([(grads[1], w)])
    b.apply_gradients([(grads[1], v)])
    np.testing.assert_array_equal(v, w)


def test_errors():
    with pytest.raises(TypeError, match="GradientTransformation"):
        OptaxOptimizer(optimizers.Adam())
    with pytest.raises(NotImplementedError, match="cannot serialize OptaxOptimizer"):
        OptaxOptimizer(optax.sgd(0.1)).get_config()
    with pytest.raises(TypeError, match="jax_enable_x64"):
        OptaxOptimizer(optax.sgd(0.1)).apply_gradients([(np.ones(2), np.ones(2))])
    opt = OptaxOptimizer(optax.sgd(0.1))
    with pytest.raises(ValueError, match="shape"):
        opt.apply_gradients([(np.ones(3, np.float32), np.ones(2, np.float32))])
