"""Edges of the wrappers of framework optimizers (``TorchOptimizer``, ``OptaxOptimizer``)
in ``gradstep.models``: ``optax.MultiSteps``, a scheduled injected learning rate, and a
model compiled again with the same wrapper. Every trajectory is compared with the
framework's optimizer run by hand on the model's own gradients (float64)."""

from __future__ import annotations

import numpy as np
import pytest

from gradstep import backend, callbacks
from gradstep.layers import Dense
from gradstep.models import Sequential
from gradstep.optimizers import OptaxOptimizer, TorchOptimizer

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
jnp = jax.numpy

RNG = np.random.default_rng(5)
X = RNG.standard_normal((16, 3))
Y = RNG.standard_normal((16, 2))
BATCH = 4


@pytest.fixture(autouse=True)
def _float64():
    """float64 models, and JAX computing in float64 (restored afterwards)."""
    old = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", True)
    backend.set_floatx("float64")
    yield
    jax.config.update("jax_enable_x64", old)


def _linear(optimizer, layers=1):
    """Linear Dense layers (3 -> 2 or 3 -> 4 -> 2) under MSE."""
    stack = (
        [Dense(2, input_dim=3)] if layers == 1 else [Dense(4, input_dim=3), Dense(2)]
    )
    model = Sequential(stack, seed=1)
    model.compile(optimizer, "mse")
    return model


def _mse_grads(h, w, b, y):
    """The gradients of mean((h @ w + b - y) ** 2) in w and b."""
    r = 2.0 * (h @ w + b - y) / y.size
    return [h.T @ r, r.sum(axis=0)]


def _batches(epochs=1):
    for _ in range(epochs):
        for i in range(0, len(X), BATCH):
            yield X[i : i + BATCH], Y[i : i + BATCH]


def _optax_by_hand(tx, params, inputs=None, epochs=1):
    """``tx`` over the last layer's (w, b) = ``params``; ``inputs(x)``: its input."""
    inputs = inputs or (lambda x: x)
    params = [jnp.asarray(p) for p in params]
    state = tx.init(params)
    for x, y in _batches(epochs):
        h = inputs(x)
        grads = [jnp.asarray(g) for g in _mse_grads(h, *map(np.asarray, params), y)]
        updates, state = tx.update(grads, state, params)
        params = optax.apply_updates(params, updates)
    return [np.asarray(p) for p in params]


def _torch_by_hand(make, params, inputs=None, epochs=1):
    inputs = inputs or (lambda x: x)
    tensors = [torch.tensor(p) for p in params]
    opt = make(tensors)
    for x, y in _batches(epochs):
        grads = _mse_grads(inputs(x), *(t.numpy() for t in tensors), y)
        for t, g in zip(tensors, grads):
            t.grad = torch.tensor(g)
        opt.step()
    return [t.numpy() for t in tensors]


def _close(got, want):
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


# ---- optax.MultiSteps --------------------------------------------------------------
def test_optax_multisteps_is_accepted_and_trains_as_multisteps_by_hand():
    model = _linear(
        OptaxOptimizer(optax.MultiSteps(optax.adam(0.05), every_k_schedule=2))
    )
    want = _optax_by_hand(
        optax.MultiSteps(
            optax.adam(0.05), every_k_schedule=2
        ).gradient_transformation(),
        model.get_weights(),
        epochs=2,
    )
    model.fit(X, Y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
    _close(model.get_weights(), want)
    assert model.optimizer.iterations == 8


# ---- a scheduled injected learning rate ---------------------------------------------
def _scheduled():
    schedule = optax.exponential_decay(0.05, transition_steps=1, decay_rate=0.5)
    return optax.inject_hyperparams(optax.adam)(learning_rate=schedule)


def test_setting_a_scheduled_lr_raises_and_changes_nothing():
    optimizer = OptaxOptimizer(_scheduled())
    model = _linear(optimizer)
    want = _optax_by_hand(_scheduled(), model.get_weights(), epochs=2)
    with pytest.raises(AttributeError, match="schedule"):
        optimizer.lr = 0.3  # before the state exists
    model.fit(X, Y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    before = optimizer.lr
    with pytest.raises(AttributeError, match="schedule"):
        optimizer.lr = 0.3  # optax would overwrite it at the next step
    assert optimizer.lr == before
    model.fit(X, Y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    _close(model.get_weights(), want)


def test_learning_rate_scheduler_on_a_scheduled_lr_raises_clearly():
    model = _linear(OptaxOptimizer(_scheduled()))
    start = [w.copy() for w in model.get_weights()]
    scheduler = callbacks.LearningRateScheduler(lambda epoch: 0.01)
    with pytest.raises(AttributeError, match="read-only"):
        model.fit(X, Y, batch_size=BATCH, epochs=1, verbose=0, callbacks=[scheduler])
    _close(model.get_weights(), start)


# ---- a model compiled again with the same wrapper ----------------------------------
def _torch_adam(lr):
    return TorchOptimizer(torch.optim.Adam, lr=lr)


def _optax_adam(lr):
    return OptaxOptimizer(optax.inject_hyperparams(optax.adam)(learning_rate=lr))


WRAPPERS = [
    pytest.param(_torch_adam, id="torch"),
    pytest.param(_optax_adam, id="optax"),
]


@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_build_on_other_arrays_says_to_rebind_and_rebind_builds_anew(wrapper):
    optimizer = wrapper(0.05)
    first, other = [np.zeros((3, 2))], [np.zeros((3, 2))]
    optimizer.build(first)
    with pytest.raises(ValueError, match=r"compiled again.*rebind\(\)"):
        optimizer.build(other)
    optimizer.rebind()
    optimizer.build(other)
    optimizer.apply_gradients([(np.ones((3, 2)), other[0])])
    assert optimizer.iterations == 1
    assert not np.any(first[0])


def _fine_tune(optimizer):
    """Train both layers, set lr, freeze the first, compile again (which rebinds)."""
    model = _linear(optimizer, layers=2)
    model.fit(X, Y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    optimizer.lr = 0.02
    model.layers[0].trainable = False
    model.compile(optimizer, "mse")
    w1, b1, w2, b2 = model.get_weights()
    return model, (lambda x: x @ w1 + b1), [w2, b2]


def test_rebind_torch_then_train_equals_a_fresh_torch_optimizer():
    optimizer = _torch_adam(0.05)
    model, inputs, last = _fine_tune(optimizer)
    want = _torch_by_hand(
        lambda ts: torch.optim.Adam(ts, lr=0.02), last, inputs, epochs=2
    )
    model.fit(X, Y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
    _close(model.get_weights()[2:], want)
    assert optimizer.iterations == 12
    assert optimizer.lr == 0.02
    assert optimizer.torch_optimizer.param_groups[0]["lr"] == 0.02


def test_rebind_optax_then_train_equals_a_fresh_optax_state():
    optimizer = _optax_adam(0.05)
    model, inputs, last = _fine_tune(optimizer)
    tx = optax.inject_hyperparams(optax.adam)(learning_rate=0.02)
    want = _optax_by_hand(tx, last, inputs, epochs=2)
    model.fit(X, Y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
    _close(model.get_weights()[2:], want)
    assert optimizer.iterations == 12
    assert optimizer.lr == 0.02


def test_rebind_of_a_torch_instance_with_several_groups_raises_before_any_change():
    model = _linear("sgd")
    w, b = model.trainable_weights
    instance = torch.optim.SGD(
        [
            {"params": [torch.from_numpy(w)]},
            {"params": [torch.from_numpy(b)], "lr": 0.5},
        ],
        lr=0.1,
    )
    optimizer = TorchOptimizer(instance)
    optimizer.apply_gradients([(np.ones_like(w), w), (np.ones_like(b), b)])
    with pytest.raises(ValueError, match="2 param groups"):
        optimizer.rebind()
    assert optimizer.torch_optimizer is instance
    optimizer.apply_gradients([(np.ones_like(w), w), (np.ones_like(b), b)])
    assert optimizer.iterations == 2


@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_compile_rebinds_a_native_wrapper(wrapper):
    """Compiled again (the weights laid out anew), the wrapper trains the model with a
    fresh framework state, as a fresh native optimizer would; its counter carries on."""
    optimizer = wrapper(0.05)
    model = _linear(optimizer)
    model.fit(X, Y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    model.compile(optimizer, "mse")
    start = model.get_weights()
    if wrapper is _torch_adam:
        want = _torch_by_hand(lambda ts: torch.optim.Adam(ts, lr=0.05), start)
    else:
        tx = optax.inject_hyperparams(optax.adam)(learning_rate=0.05)
        want = _optax_by_hand(tx, start)
    model.fit(X, Y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    _close(model.get_weights(), want)
    assert optimizer.iterations == 8


# ---- lr read before the first step ---------------------------------------------------
def test_lr_read_before_the_first_step_is_not_rounded_to_float32():
    optimizer = _optax_adam(0.05)
    model = _linear(optimizer)
    assert optimizer.lr == 0.05
    want = _optax_by_hand(
        optax.inject_hyperparams(optax.adam)(learning_rate=0.05),
        model.get_weights(),
        epochs=2,
    )
    keep = callbacks.LearningRateScheduler(lambda epoch, lr: lr)  # reads, sets back
    history = model.fit(
        X, Y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0, callbacks=[keep]
    )
    assert history.history["lr"] == [0.05, 0.05]
    _close(model.get_weights(), want)
