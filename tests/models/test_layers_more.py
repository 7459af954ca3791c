"""Every layer beyond Dense: finite-difference checks of backward (inputs and weights),
hand-computed forwards, training vs inference, configs and errors."""

from __future__ import annotations

import numpy as np
import pytest

from gradstep import constraints, regularizers
from gradstep.layers import (
    ELU,
    Activation,
    ActivityRegularization,
    Add,
    AlphaDropout,
    Average,
    BatchNormalization,
    Concatenate,
    Dense,
    Dot,
    GaussianDropout,
    GaussianNoise,
    Input,
    LeakyReLU,
    Maximum,
    Minimum,
    Multiply,
    Permute,
    PReLU,
    ReLU,
    RepeatVector,
    Reshape,
    Softmax,
    Subtract,
    ThresholdedReLU,
    deserialize,
    serialize,
)
from gradstep.layers._base import Rngs
from gradstep.models import Model, Sequential

from ._helpers import assert_grad_close, numeric_grad

RNG = np.random.default_rng(11)


def _rngs() -> Rngs:
    return Rngs(np.random.default_rng(0), np.random.default_rng(1))


def _away(shape, margin=0.1):
    x = RNG.uniform(-2, 2, shape)
    x[np.abs(x) < margin] += 3 * margin
    x[np.abs(x - 1.0) < margin] += 3 * margin  # ThresholdedReLU's theta
    return x


def _check(layer, shapes, training=True, reseed=False, multi=False):
    """Finite differences of sum(w * layer(x)) in every input and weight."""
    layer.dtype = "float64"
    batch_shapes = [(None, *s[1:]) for s in shapes]
    layer.build(batch_shapes if multi else batch_shapes[0], _rngs())
    for w in layer.weights:
        w[...] = RNG.uniform(0.5, 1.5, w.shape)
    xs = [_away(s) for s in shapes]
    arg = xs if multi else xs[0]

    def run():
        if reseed:
            layer.rng = np.random.default_rng(5)
        return layer.forward(arg, training)

    out = np.array(run(), copy=True)
    wts = RNG.normal(size=out.shape)

    def f():  # the layer's penalties (activity, weights) count as in a model's loss
        return float(np.sum(wts * run())) + layer.penalty()

    run()
    dx = layer.backward(wts.copy(), True)
    dxs = dx if multi else [dx]
    analytic_w = [g.copy() for g in layer.grads]
    for x, d in zip(xs, dxs):
        assert_grad_close(np.array(d, copy=True), numeric_grad(f, x))
    for w, g in zip(layer.weights, analytic_w):
        if w is layer.__dict__.get("moving_mean") or w is layer.__dict__.get(
            "moving_variance"
        ):
            continue
        assert_grad_close(g, numeric_grad(f, w))
    return out


@pytest.mark.parametrize(
    ("make", "shapes"),
    [
        (lambda: Reshape((2, 3)), [(4, 6)]),
        (lambda: Reshape((-1, 2)), [(4, 3, 2)]),
        (lambda: Permute((2, 1)), [(3, 2, 4)]),
        (lambda: RepeatVector(3), [(4, 2)]),
        (lambda: ActivityRegularization(l1=0.1, l2=0.2), [(3, 4)]),
        (lambda: LeakyReLU(0.2), [(3, 5)]),
        (lambda: ELU(0.7), [(3, 5)]),
        (lambda: ThresholdedReLU(1.0), [(3, 5)]),
        (lambda: ReLU(), [(3, 5)]),
        (lambda: ReLU(max_value=1.5, negative_slope=0.1), [(3, 5)]),
        (lambda: ReLU(negative_slope=0.2, threshold=0.5), [(3, 5)]),
        (lambda: Softmax(), [(3, 5)]),
        (lambda: Softmax(axis=1), [(3, 4, 2)]),
        (lambda: PReLU(), [(3, 4)]),
        (lambda: PReLU(shared_axes=[1]), [(3, 2, 4)]),
        (lambda: PReLU(alpha_regularizer=regularizers.l2(0.1)), [(3, 4)]),
    ],
)
def test_single_input_layer_gradients(make, shapes):
    _check(make(), shapes)


@pytest.mark.parametrize("cls", [Add, Subtract, Multiply, Average, Maximum, Minimum])
def test_merge_layer_gradients(cls):
    n = 2 if cls is Subtract else 3
    _check(cls(), [(3, 4)] * n, multi=True)


@pytest.mark.parametrize("normalize", [False, True])
def test_dot_gradients_and_value(normalize):
    layer = Dot(axes=1, normalize=normalize)
    out = _check(layer, [(4, 3), (4, 3)], multi=True)
    assert out.shape == (4, 1)
    a, b = RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))
    expected = np.sum(a * b, 1, keepdims=True)
    if normalize:
        expected /= (
            np.linalg.norm(a, axis=1, keepdims=True)
            * np.linalg.norm(b, axis=1)[:, None]
        )
    np.testing.assert_allclose(layer.forward([a, b], False), expected, rtol=1e-12)


def test_concatenate_gradients_and_shape():
    layer = Concatenate(axis=1)
    out = _check(layer, [(2, 3, 2), (2, 1, 2)], multi=True)
    assert out.shape == (2, 4, 2)
    assert layer.compute_output_shape([(None, 3, 2), (None, 1, 2)]) == (None, 4, 2)


@pytest.mark.parametrize("training", [True, False])
def test_batch_normalization_gradients(training):
    _check(BatchNormalization(), [(5, 3)], training=training)
    _check(BatchNormalization(axis=1, center=False), [(4, 2, 3)], training=training)


@pytest.mark.parametrize(
    "make",
    [
        lambda: GaussianNoise(0.3),
        lambda: GaussianDropout(0.3),
        lambda: AlphaDropout(0.3),
    ],
)
def test_noise_layer_gradients_with_fixed_noise(make):
    _check(make(), [(4, 3)], reseed=True)


def test_noise_layers_are_identity_at_inference():
    x = RNG.normal(size=(4, 3))
    for layer in (GaussianNoise(0.3), GaussianDropout(0.3), AlphaDropout(0.3)):
        layer.build((None, 3), _rngs())
        assert layer.forward(x, False) is x
        assert not np.array_equal(layer.forward(x, True), x)


def test_alpha_dropout_formula():
    layer = AlphaDropout(0.25, seed=3)
    layer.build((None, 6), _rngs())
    x = RNG.normal(size=(50, 6))
    y = layer.forward(x, True)
    kept = np.random.default_rng(3).random(x.shape) >= 0.25
    alpha_p = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946
    a = ((1 - 0.25) * (1 + 0.25 * alpha_p**2)) ** -0.5
    b = -a * alpha_p * 0.25
    np.testing.assert_allclose(y, a * np.where(kept, x, alpha_p) + b, rtol=1e-13)


def test_batch_normalization_forward_and_moving_statistics():
    layer = BatchNormalization(momentum=0.9, epsilon=1e-3)
    layer.dtype = "float64"
    layer.build((None, 2), _rngs())
    layer.gamma[...] = [2.0, 0.5]
    layer.beta[...] = [0.1, -0.2]
    x = np.array([[1.0, 2.0], [3.0, -1.0], [0.0, 4.0], [2.0, 0.0]])
    y = layer.forward(x, True)
    mean, var = x.mean(0), x.var(0)
    np.testing.assert_allclose(
        y, (x - mean) / np.sqrt(var + 1e-3) * [2.0, 0.5] + [0.1, -0.2], rtol=1e-13
    )
    np.testing.assert_allclose(layer.moving_mean, 0.1 * mean, rtol=1e-13)
    expected_var = 0.9 + 0.1 * (var + 1e-3) * 4 / (4 - 1.001)
    np.testing.assert_allclose(layer.moving_variance, expected_var, rtol=1e-13)
    z = layer.forward(x, False)
    np.testing.assert_allclose(
        z,
        (x - layer.moving_mean) * ([2.0, 0.5] / np.sqrt(layer.moving_variance + 1e-3))
        + [0.1, -0.2],
        rtol=1e-13,
    )


def test_batch_normalization_in_a_model_trains_gamma_beta_only():
    model = Sequential(
        [
            Dense(3, input_shape=(2,), dtype="float64"),
            BatchNormalization(dtype="float64"),
        ]
    )
    model.compile("sgd", "mse")
    bn = model.layers[1]
    assert [w.shape for w in model.trainable_weights] == [(2, 3), (3,), (3,), (3,)]
    assert len(model.non_trainable_weights) == 2
    x, y = RNG.normal(size=(8, 2)), RNG.normal(size=(8, 3))
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    assert not np.allclose(bn.moving_mean, 0)
    bn.trainable = False
    model.compile("sgd", "mse")
    frozen = bn.get_weights()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    for u, v in zip(frozen, bn.get_weights()):
        np.testing.assert_array_equal(u, v)  # gamma, beta and moving statistics kept
    assert model.uses_learning_phase


def test_hand_computed_activations():
    x = np.array([[-2.0, -0.5, 0.5, 2.0]])
    np.testing.assert_allclose(LeakyReLU(0.3)._f(x), [[-0.6, -0.15, 0.5, 2.0]])
    np.testing.assert_allclose(ELU(1.0)._f(x), [[np.expm1(-2), np.expm1(-0.5), 0.5, 2]])
    np.testing.assert_allclose(ThresholdedReLU(1.0)._f(x), [[0, 0, 0, 2.0]])
    np.testing.assert_allclose(
        ReLU(max_value=1.0, negative_slope=0.1)._f(x), [[-0.2, -0.05, 0.5, 1.0]]
    )
    np.testing.assert_allclose(ReLU(threshold=1.0)._f(x), [[0, 0, 0, 2.0]])
    y = Softmax().forward(x, False)
    np.testing.assert_allclose(y, np.exp(x) / np.exp(x).sum(), rtol=1e-13)


def test_reshape_permute_repeat_shapes():
    assert Reshape((-1, 2)).compute_output_shape((None, 3, 4)) == (None, 6, 2)
    assert Permute((2, 1)).compute_output_shape((None, 3, 4)) == (None, 4, 3)
    assert RepeatVector(5).compute_output_shape((None, 3)) == (None, 5, 3)
    x = Input(shape=(6,))
    model = Model(x, Reshape((2, 3))(x))
    assert model.predict(np.arange(12.0).reshape(2, 6)).shape == (2, 2, 3)


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (lambda: Reshape((-1, -1)), "one unknown dimension"),
        (lambda: Reshape((5,)).compute_output_shape((None, 6)), "unchanged"),
        (lambda: Permute((1, 3)), "consecutive"),
        (lambda: RepeatVector(0), "positive integer"),
        (lambda: RepeatVector(2).compute_output_shape((None, 2, 3)), "2 dimensions"),
        (lambda: LeakyReLU("x"), "alpha"),
        (lambda: ThresholdedReLU(-1), "theta"),
        (lambda: ReLU(max_value=-1), "max_value"),
        (lambda: Softmax(axis=0).compute_output_shape((None, 3)), "batch axis"),
        (lambda: PReLU(shared_axes=[0]), "shared_axes"),
        (lambda: BatchNormalization(momentum=2), "momentum"),
        (lambda: BatchNormalization(axis=0).weight_shapes((None, 3)), "batch axis"),
        (lambda: BatchNormalization().weight_shapes((None, None)), "defined dimension"),
        (lambda: GaussianNoise(-1), "stddev"),
        (lambda: GaussianDropout(1.5), "rate"),
        (lambda: AlphaDropout(0.5, seed=-1), "seed"),
        (lambda: Subtract()([Input(shape=(2,))] * 3), "exactly 2"),
        (lambda: Dot(axes=2), "axes 1 or -1"),
        (
            lambda: Dot(1).compute_output_shape([(None, 2, 3), (None, 2, 3)]),
            "(batch, d)",
        ),
        (
            lambda: Concatenate(axis=0).compute_output_shape([(None, 2), (None, 2)]),
            "batch",
        ),
        (
            lambda: Concatenate().compute_output_shape([(None, 2, 3), (None, 3, 3)]),
            "matching shapes",
        ),
    ],
)
def test_layer_errors(make, pattern):
    with pytest.raises(ValueError, match=pattern):
        make()


def test_configs_round_trip():
    layers = [
        Reshape((2, 3)),
        Permute((2, 1)),
        RepeatVector(3),
        ActivityRegularization(l1=0.1),
        BatchNormalization(momentum=0.9, center=False, gamma_constraint="non_neg"),
        GaussianNoise(0.2),
        GaussianDropout(0.2),
        AlphaDropout(0.2, seed=4),
        LeakyReLU(0.1),
        PReLU(shared_axes=[1], alpha_constraint=constraints.max_norm(2)),
        ELU(0.5),
        ThresholdedReLU(0.5),
        ReLU(max_value=6.0),
        Softmax(axis=1),
        Concatenate(axis=1),
        Add(),
        Dot(axes=[1, 1], normalize=True),
        Dense(
            3,
            kernel_constraint=constraints.max_norm(2),
            bias_constraint="non_neg",
            activity_regularizer=regularizers.l2(0.01),
        ),
        Activation("relu"),
    ]
    for layer in layers:
        again = deserialize(serialize(layer))
        assert type(again) is type(layer)
        assert serialize(again) == serialize(layer)


def test_dense_constraints_applied_after_each_step():
    model = Sequential(
        [
            Dense(
                3,
                input_shape=(4,),
                kernel_constraint=constraints.max_norm(0.5),
                bias_constraint=constraints.non_neg(),
                dtype="float64",
            )
        ]
    )
    model.compile("sgd", "mse")
    x, y = RNG.normal(size=(16, 4)), 10 * RNG.normal(size=(16, 3))
    model.fit(x, y, epochs=3, verbose=0)
    kernel, bias = model.get_weights()
    assert np.all(np.sqrt(np.sum(kernel**2, axis=0)) <= 0.5 + 1e-12)
    assert np.all(bias >= 0)


def test_activity_regularizer_adds_to_loss_and_gradient():
    model = Sequential(
        [
            Dense(
                3,
                input_shape=(4,),
                activation="tanh",
                activity_regularizer=regularizers.l1_l2(0.01, 0.02),
                dtype="float64",
            ),
            Dense(2, activation="softmax", dtype="float64"),
        ]
    )
    model.compile("sgd", "categorical_crossentropy")
    x, y = RNG.normal(size=(5, 4)), np.eye(2)[RNG.integers(0, 2, 5)]
    hidden = np.tanh(x @ model.layers[0].kernel + model.layers[0].bias)
    plain = model.evaluate(x, y, verbose=0) - 0  # includes the penalty
    penalty = 0.01 * np.abs(hidden).sum() + 0.02 * np.square(hidden).sum()
    assert model.losses == [pytest.approx(penalty, rel=1e-12)]
    p = model.predict(x)
    ce = np.mean(-np.sum(y * np.log(np.clip(p, 1e-7, 1 - 1e-7)), -1))
    assert plain == pytest.approx(ce + penalty, rel=1e-9)
    model._compute_gradients([x], [y], [None])
    grads = [g.copy() for g in model._train_grads]
    _, params = model._trainable_pairs()
    for w, g in zip(params, grads):
        assert_grad_close(
            g, numeric_grad(lambda: model._batch_loss([x], [y], [None]), w)
        )
