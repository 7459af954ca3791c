"""Finite-difference checks (float64) of every activation, loss, regularizer and layer,
and of a whole model's gradient buffer."""

from __future__ import annotations

import numpy as np
import pytest

from gradstep import activations, backend, losses, regularizers
from gradstep.layers import Activation, Dense, Dropout, Flatten
from gradstep.layers._base import Rngs
from gradstep.models import Sequential

from ._helpers import assert_grad_close, numeric_grad

RNG = np.random.default_rng(1234)


def _rngs(seed: int = 0) -> Rngs:
    return Rngs(np.random.default_rng(seed), np.random.default_rng(seed + 1))


def _away_from_kinks(shape, low=-2.0, high=2.0, margin=0.05):
    # Values at least ``margin`` away from 0 and from hard_sigmoid's corners (+-2.5).
    x = RNG.uniform(low, high, shape)
    x[np.abs(x) < margin] += 2 * margin
    return x


@pytest.mark.parametrize("name", activations.names())
def test_activation_gradient(name):
    act = activations.get(name)
    x = _away_from_kinks((3, 5), -3.0, 3.0)
    x[np.abs(np.abs(x) - 2.5) < 0.05] = 1.0
    w = RNG.normal(size=x.shape)

    def f():
        return float(np.sum(w * act.forward(x, np.empty_like(x))))

    y = act.forward(x, np.empty_like(x))
    analytic = act.backward(x, y, w.copy(), np.empty_like(x))
    assert_grad_close(analytic, numeric_grad(f, x))


def test_activation_forward_in_place_matches_copy():
    for name in activations.names():
        act = activations.get(name)
        if not act.in_place_safe:
            continue
        x = RNG.normal(size=(4, 6))
        expected = act.forward(x, np.empty_like(x))
        assert np.array_equal(act.forward(x, x), expected), name


def _loss_inputs(name):
    shape = (4, 5)
    if name in ("sparse_categorical_crossentropy",):
        return RNG.integers(0, 5, size=(4,)), RNG.uniform(0.05, 0.9, shape)
    if name in ("categorical_crossentropy", "kullback_leibler_divergence"):
        y = RNG.uniform(0.05, 1.0, shape)
        return y / y.sum(axis=-1, keepdims=True), RNG.uniform(0.05, 0.9, shape)
    if name == "binary_crossentropy":
        return RNG.integers(0, 2, size=shape).astype(float), RNG.uniform(
            0.05, 0.95, shape
        )
    if name in ("hinge", "squared_hinge", "categorical_hinge"):
        y = RNG.choice([-1.0, 1.0], size=shape)
        if name == "categorical_hinge":
            y = np.eye(5)[RNG.integers(0, 5, 4)]
        p = RNG.uniform(-1.5, 1.5, shape)
        p[np.abs(1 - y * p) < 0.05] += 0.2
        return y, p
    if name in ("mean_squared_logarithmic_error", "poisson"):
        return RNG.uniform(0.1, 3.0, shape), RNG.uniform(0.1, 3.0, shape)
    y = RNG.normal(size=shape)
    p = y + _away_from_kinks(shape, -1, 1)
    return y, p


CANONICAL_LOSSES = sorted({losses.get(n).name for n in losses.names()})


@pytest.mark.parametrize("name", CANONICAL_LOSSES)
def test_loss_gradient(name):
    loss = losses.get(name)
    y, p = _loss_inputs(name)

    def f():
        return float(np.sum(loss.score(y, p)))

    assert_grad_close(loss.gradient(y, p), numeric_grad(f, p))


@pytest.mark.parametrize(
    "name", [n for n in CANONICAL_LOSSES if losses.get(n).fused_activation]
)
def test_fused_gradient_through_final_activation(name):
    loss = losses.get(name)
    act = activations.get(loss.fused_activation)
    y, _ = _loss_inputs(name)
    z = RNG.normal(size=(4, 5))

    def f():
        return float(np.sum(loss.score(y, act(z))))

    assert_grad_close(loss.fused_gradient(y, act(z)), numeric_grad(f, z))


def test_crossentropy_values_follow_keras_formulas():
    eps = backend.epsilon()
    p = np.array([[0.7, 0.2, 0.1], [1.0, 0.0, 0.0]])
    y = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    expected = [-np.log(0.2), -np.log(eps)]
    assert np.allclose(
        losses.get("categorical_crossentropy")(y, p), expected, rtol=1e-12
    )
    sparse = losses.get("sparse_categorical_crossentropy")(np.array([1, 2]), p)
    clipped = np.clip(p, eps, 1 - eps)
    assert np.allclose(sparse, -np.log(clipped[[0, 1], [1, 2]] / clipped.sum(axis=1)))


@pytest.mark.parametrize(
    "reg", [regularizers.l1(0.3), regularizers.l2(0.2), regularizers.l1_l2(0.1, 0.4)]
)
def test_regularizer_gradient(reg):
    w = _away_from_kinks((3, 4))
    grad = np.zeros_like(w)
    reg.add_gradient(w, grad)
    assert_grad_close(grad, numeric_grad(lambda: reg.penalty(w), w))


def _layer_check(layer, x, params=True):
    layer.build((None, *x.shape[1:]), _rngs())
    y = layer.forward(x, training=True)
    w = RNG.normal(size=y.shape)
    state = (
        layer.rng.bit_generator.state
        if getattr(layer, "rng", None) is not None
        else None
    )

    def f():
        if state is not None:  # the same dropout mask on every evaluation
            layer.rng.bit_generator.state = state
        return float(np.sum(w * layer.forward(x, training=True)))

    f()
    dx = layer.backward(w.copy(), need_dx=True)
    assert_grad_close(dx, numeric_grad(f, x))
    if params:
        for weight, grad in zip(layer.weights, layer.grads):
            f()
            layer.backward(w.copy(), need_dx=False)
            assert_grad_close(grad.copy(), numeric_grad(f, weight))


@pytest.fixture
def float64():
    backend.set_floatx("float64")


@pytest.mark.parametrize("activation", [None, *activations.names()])
def test_dense_gradient(float64, activation):
    layer = Dense(
        3,
        activation=activation,
        kernel_initializer="glorot_normal",
        bias_initializer="normal",
    )
    _layer_check(layer, _away_from_kinks((4, 5), -1, 1))


def test_dense_gradient_on_3d_inputs(float64):
    _layer_check(Dense(3, activation="tanh"), RNG.normal(size=(2, 3, 4)))


def test_dense_with_regularizers_gradient(float64):
    layer = Dense(
        3,
        kernel_regularizer=regularizers.l2(0.1),
        bias_regularizer=regularizers.l1(0.05),
        bias_initializer="normal",
    )
    layer.build((None, 4), _rngs())
    x = RNG.normal(size=(5, 4))
    w = RNG.normal(size=(5, 3))

    def f():
        return float(np.sum(w * layer.forward(x, True))) + layer.penalty()

    for weight, grad in zip(layer.weights, layer.grads):
        f()
        layer.backward(w.copy(), need_dx=False)
        assert_grad_close(grad.copy(), numeric_grad(f, weight))


@pytest.mark.parametrize(
    "layer",
    [Activation("softsign"), Dropout(0.4), Flatten()],
    ids=["activation", "dropout", "flatten"],
)
def test_weightless_layer_gradient(float64, layer):
    _layer_check(layer, _away_from_kinks((4, 3, 2), -1, 1), params=False)


def test_model_gradient_buffer_matches_finite_differences(float64):
    model = Sequential(
        [
            Dense(
                6,
                activation="relu",
                input_shape=(4,),
                kernel_regularizer=regularizers.l2(0.01),
                bias_initializer="normal",
            ),
            Dropout(0.0),
            Dense(5),
            Activation("softmax"),
        ],
        seed=3,
    )
    model.compile("sgd", "categorical_crossentropy")
    x = RNG.normal(size=(7, 4))
    y = np.eye(5)[RNG.integers(0, 5, 7)]

    def f():
        return model._batch_loss([x], [y], [None])

    model._compute_gradients([x], [y], [None])
    _, params = model._trainable_pairs()
    analytic = [g.copy() for g in model._train_grads]
    for weight, grad in zip(params, analytic):
        assert_grad_close(grad, numeric_grad(f, weight))
