"""Keras 2.2.4's module-level functions and aliases of the building blocks: activations
with their extra arguments (values from Keras's formulas, gradients by finite
differences), every loss and metric as a function, initializer classes and aliases,
regularizers, and get/serialize/deserialize accepting names and callables."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gradstep import activations, initializers, losses, metrics, regularizers

from .models._helpers import assert_grad_close, numeric_grad

RNG = np.random.default_rng(42)


def _x(shape=(3, 5), low=-3.0, high=3.0):
    x = RNG.uniform(low, high, shape)
    x[np.abs(x) < 0.05] = 0.3
    return x


# ---- activations -------------------------------------------------------------------------
def _keras_relu(x, alpha=0.0, max_value=None, threshold=0.0):
    # keras/backend/theano_backend.py relu (2.2.4), in NumPy
    negative_part = np.maximum(-x + threshold, 0)
    y = x * (x > threshold) if threshold != 0 else np.maximum(x, 0)
    if max_value is not None:
        y = np.clip(y, 0.0, max_value)
    return y - alpha * negative_part


RELU_ARGS = [
    {},
    {"alpha": 0.1},
    {"max_value": 1.5},
    {"threshold": 0.7},
    {"alpha": 0.2, "max_value": 2.0, "threshold": -0.5},
    {"max_value": 6.0},
]


@pytest.mark.parametrize("kwargs", RELU_ARGS)
def test_relu_with_keras_arguments(kwargs):
    x = _x()
    np.testing.assert_allclose(activations.relu(x, **kwargs), _keras_relu(x, **kwargs))


def _avoid(x, points, margin=0.05):
    for p in points:
        x[np.abs(x - p) < margin] = p + 2 * margin
    return x


@pytest.mark.parametrize(
    "act",
    [activations.Relu(**kw) for kw in RELU_ARGS]
    + [activations.Elu(0.5), activations.Elu(2.0), activations.Softmax(axis=1)],
    ids=lambda a: repr(vars(a)),
)
def test_parametrized_activation_gradients(act):
    shape = (2, 4, 3) if isinstance(act, activations.Softmax) else (3, 5)
    kinks = [0.0, getattr(act, "threshold", 0.0)]
    if getattr(act, "max_value", None) is not None:
        kinks.append(act.max_value)
    x = _avoid(_x(shape), kinks)
    w = RNG.normal(size=x.shape)

    def f():
        return float(np.sum(w * act.forward(x, np.empty_like(x))))

    y = act.forward(x, np.empty_like(x))
    analytic = act.backward(x, y, w.copy(), np.empty_like(x))
    assert_grad_close(analytic, numeric_grad(f, x))


def test_elu_alpha_and_softmax_axis_values():
    x = _x((2, 3, 4))
    np.testing.assert_allclose(
        activations.elu(x, 0.5), np.where(x > 0, x, 0.5 * (np.exp(x) - 1))
    )
    e = np.exp(x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(
        activations.softmax(x, axis=1), e / e.sum(axis=1, keepdims=True)
    )
    x2 = _x((2, 3))
    # Keras 2.2.4: 2-D input uses K.softmax, the last axis, whatever axis says
    e2 = np.exp(x2 - x2.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(
        activations.softmax(x2, axis=0), e2 / e2.sum(axis=-1, keepdims=True)
    )


def test_softmax_refuses_1d_input():
    with pytest.raises(ValueError, match="Cannot apply softmax to a tensor that is 1D"):
        activations.softmax(np.ones(3))
    with pytest.raises(ValueError, match="1D"):
        activations.get("softmax")(np.ones(3))


@pytest.mark.parametrize(
    "name",
    [
        "relu",
        "elu",
        "selu",
        "softplus",
        "softsign",
        "tanh",
        "sigmoid",
        "hard_sigmoid",
        "exponential",
        "linear",
        "softmax",
    ],
)
def test_every_activation_is_a_function_get_accepts(name):
    fn = getattr(activations, name)
    assert fn.__name__ == name
    act = activations.get(fn)
    assert act is activations.get(name)
    assert activations.serialize(fn) == name == activations.serialize(act)
    x = _x()
    np.testing.assert_allclose(fn(x), act(x))


def test_activation_get_none_is_linear_and_refuses_plain_functions():
    assert activations.get(None).name == "linear"
    with pytest.raises(ValueError, match="Activation_"):
        activations.get(lambda x: x)
    with pytest.raises(ValueError, match="Unknown activation: 'nope'"):
        activations.get("nope")
    with pytest.raises(ValueError, match="alpha must be a finite number"):
        activations.relu(np.ones((1, 1)), alpha="0.1")
    with pytest.raises(ValueError, match="softmax axis must be an integer"):
        activations.Softmax(axis=1.5)


# ---- losses ------------------------------------------------------------------------------
ALIASES = {
    "mean_squared_error": ["mse", "MSE"],
    "mean_absolute_error": ["mae", "MAE"],
    "mean_absolute_percentage_error": ["mape", "MAPE"],
    "mean_squared_logarithmic_error": ["msle", "MSLE"],
    "kullback_leibler_divergence": ["kld", "KLD"],
    "cosine_proximity": ["cosine"],
    "squared_hinge": [],
    "hinge": [],
    "categorical_hinge": [],
    "logcosh": [],
    "categorical_crossentropy": [],
    "sparse_categorical_crossentropy": [],
    "binary_crossentropy": [],
    "poisson": [],
}


@pytest.mark.parametrize("name", sorted(ALIASES))
def test_every_loss_is_a_function_with_keras_aliases(name):
    fn = getattr(losses, name)
    assert fn.__name__ == name
    for alias in ALIASES[name]:
        assert getattr(losses, alias) is fn
        assert getattr(metrics, alias) is fn
    assert losses.get(fn) is fn and losses.get(name) is fn
    assert losses.serialize(fn) == name and losses.deserialize(name) is fn


def test_loss_functions_give_keras_per_sample_values():
    y = np.array([[1.0, 2.0], [0.5, -1.0]])
    p = np.array([[1.5, 1.0], [0.0, 0.0]])
    np.testing.assert_allclose(losses.mse(y, p), [(0.25 + 1) / 2, (0.25 + 1) / 2])
    np.testing.assert_allclose(losses.mae(y, p), [0.75, 0.75])
    np.testing.assert_allclose(
        losses.mape(y, p), 100 * np.mean(np.abs((y - p) / np.abs(y)), axis=-1)
    )
    np.testing.assert_allclose(
        losses.cosine(y, p),
        -np.sum(
            y
            / np.linalg.norm(y, axis=-1, keepdims=True)
            * (p / np.maximum(np.linalg.norm(p, axis=-1, keepdims=True), 1e-6)),
            axis=-1,
        ),
    )
    np.testing.assert_allclose(
        losses.hinge(y, p), np.mean(np.maximum(1 - y * p, 0), -1)
    )
    labels = np.array([1, 0])
    probs = np.array([[0.2, 0.8], [0.6, 0.4]])
    np.testing.assert_allclose(
        losses.sparse_categorical_crossentropy(labels, probs), -np.log([0.8, 0.6])
    )
    # lists work too, as they do for Keras's functions on constants
    np.testing.assert_allclose(losses.mse([[0.0, 0.0]], [[1.0, 1.0]]), [1.0])


def test_loss_get_refuses_plain_functions_and_shape_mismatch():
    with pytest.raises(ValueError, match="subclass gradstep.losses.Loss"):
        losses.get(lambda y, p: (y - p) ** 2)
    with pytest.raises(ValueError, match="Unknown loss: 'nope'"):
        losses.get("nope")
    with pytest.raises(ValueError, match="y_true has shape"):
        losses.mse(np.ones((2, 3)), np.ones((2, 2)))


# ---- metrics -----------------------------------------------------------------------------
P = np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3], [0.2, 0.2, 0.6], [0.34, 0.33, 0.33]])
Y = np.eye(3)[[1, 2, 2, 1]]


def test_metric_functions_as_keras_averages():
    np.testing.assert_array_equal(metrics.categorical_accuracy(Y, P), [1, 0, 1, 0])
    np.testing.assert_array_equal(
        metrics.sparse_categorical_accuracy(np.array([[1], [2], [2], [1]]), P),
        [1, 0, 1, 0],
    )
    np.testing.assert_array_equal(
        metrics.binary_accuracy(np.array([[1.0, 0.0]]), np.array([[0.7, 0.5]])), [1.0]
    )
    # top-k: Keras 2.2.4 returns K.mean(in_top_k(...), axis=-1): the batch mean
    assert metrics.top_k_categorical_accuracy(Y, P, k=1) == 0.5
    assert metrics.top_k_categorical_accuracy(Y, P, k=2) == 1.0
    assert metrics.top_k_categorical_accuracy(Y, P) == 1.0
    assert (
        metrics.sparse_top_k_categorical_accuracy(np.array([1, 1, 2, 1]), P, k=2)
        == 0.75
    )
    assert (
        metrics.sparse_top_k_categorical_accuracy(np.array([[1], [2], [2], [1]]), P, 1)
        == 0.5
    )
    assert np.ndim(metrics.top_k_categorical_accuracy(Y, P)) == 0


def test_top_k_ties_count_as_in_top_k_as_tf_and_theano():
    p = np.array([[0.5, 0.5, 0.0]])
    assert metrics.sparse_top_k_categorical_accuracy(np.array([1]), p, k=1) == 1.0
    assert metrics.sparse_top_k_categorical_accuracy(np.array([1]), p, k=0) == 0.0


def test_metric_get_serialize_deserialize():
    assert (
        metrics.get("top_k_categorical_accuracy") is metrics.top_k_categorical_accuracy
    )
    assert metrics.get(metrics.binary_accuracy) is metrics.binary_accuracy
    assert metrics.get("mse")(Y, P).shape == (4,)
    assert metrics.get(losses.mae).__name__ == "mean_absolute_error"
    assert metrics.serialize(metrics.categorical_accuracy) == "categorical_accuracy"
    assert metrics.serialize(losses.mse) == "mean_squared_error"
    assert metrics.deserialize("categorical_accuracy") is metrics.categorical_accuracy
    with pytest.raises(ValueError, match="Unknown metric: 'nope'"):
        metrics.get("nope")
    with pytest.raises(ValueError, match="k must be an integer"):
        metrics.top_k_categorical_accuracy(Y, P, k=1.5)
    with pytest.raises(ValueError, match="needs y_pred of shape"):
        metrics.sparse_top_k_categorical_accuracy(np.array([1, 2]), P)


# ---- initializers --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "alias, cls",
    [
        ("zero", "Zeros"),
        ("zeros", "Zeros"),
        ("one", "Ones"),
        ("ones", "Ones"),
        ("constant", "Constant"),
        ("uniform", "RandomUniform"),
        ("random_uniform", "RandomUniform"),
        ("normal", "RandomNormal"),
        ("random_normal", "RandomNormal"),
        ("truncated_normal", "TruncatedNormal"),
        ("identity", "Identity"),
        ("orthogonal", "Orthogonal"),
    ],
)
def test_initializer_aliases_are_the_classes(alias, cls):
    assert getattr(initializers, alias) is getattr(initializers, cls)
    assert type(initializers.get(alias)) is getattr(initializers, cls)
    assert type(initializers.get(getattr(initializers, alias))) is getattr(
        initializers, cls
    )


@pytest.mark.parametrize(
    "name, scale, mode, distribution",
    [
        ("glorot_uniform", 1.0, "fan_avg", "uniform"),
        ("glorot_normal", 1.0, "fan_avg", "normal"),
        ("he_normal", 2.0, "fan_in", "normal"),
        ("he_uniform", 2.0, "fan_in", "uniform"),
        ("lecun_uniform", 1.0, "fan_in", "uniform"),
        ("lecun_normal", 1.0, "fan_in", "normal"),
    ],
)
def test_variance_scaling_functions(name, scale, mode, distribution):
    fn = getattr(initializers, name)
    for got in (fn(seed=3), initializers.get(name), initializers.get(fn)):
        assert isinstance(got, initializers.VarianceScaling)
        assert (got.scale, got.mode, got.distribution) == (scale, mode, distribution)
    config = {"class_name": name, "config": {"seed": 5}}
    assert initializers.deserialize(config).seed == 5


@pytest.mark.parametrize("shape", [(3, 3), (6, 2), (2, 6), (4, 2)])
def test_identity_non_square_stacks_identities(shape):
    out = initializers.Identity(gain=2.0)(shape, dtype="float64")
    rows, cols = shape
    if rows >= cols:
        want = np.concatenate([np.eye(cols)] * (rows // cols), axis=0)
    else:
        want = np.concatenate([np.eye(rows)] * (cols // rows), axis=1)
    np.testing.assert_array_equal(out, 2.0 * want)


@pytest.mark.parametrize(
    "shape, words", [((3, 2), "multiple of the short side"), ((2, 2, 2), "2D")]
)
def test_identity_refusals(shape, words):
    with pytest.raises(ValueError, match=words):
        initializers.Identity()(shape)


def test_constant_with_an_array():
    value = np.array([1.0, 2.0, 3.0])
    init = initializers.Constant(value)
    np.testing.assert_array_equal(init((2, 3)), [[1, 2, 3], [1, 2, 3]])
    config = json.loads(json.dumps(initializers.serialize(init)))
    assert config == {"class_name": "Constant", "config": {"value": [1.0, 2.0, 3.0]}}
    np.testing.assert_array_equal(initializers.deserialize(config)((3,)), value)
    assert initializers.Constant(2)((2,)).tolist() == [2.0, 2.0]
    with pytest.raises(ValueError, match="cannot fill a weight of shape"):
        init((2, 2))
    with pytest.raises(ValueError, match="value must be a number or an array"):
        initializers.Constant("x")


def test_initializer_accepts_a_callable():
    def halves(shape, dtype=None):
        return np.full(shape, 0.5)

    init = initializers.get(halves)
    np.testing.assert_array_equal(init((2, 2)), np.full((2, 2), 0.5))
    with pytest.raises(ValueError, match="returned shape"):
        initializers.get(lambda shape, dtype=None: np.zeros(3))((2,))
    with pytest.raises(ValueError, match="Unknown initializer: 'nope'"):
        initializers.get("nope")
    with pytest.raises(ValueError, match="Could not interpret initializer identifier"):
        initializers.get(3)


# ---- regularizers ------------------------------------------------------------------------
def test_regularizer_names_and_functions():
    assert regularizers.get("l2").get_config() == {"l1": 0.0, "l2": 0.01}
    assert regularizers.get(regularizers.l1).get_config() == {"l1": 0.01, "l2": 0.0}
    assert regularizers.get("l1_l2").get_config() == {"l1": 0.01, "l2": 0.01}
    assert regularizers.get(None) is None
    reg = regularizers.deserialize({"class_name": "l1_l2", "config": {"l1": 0.5}})
    assert reg.get_config() == {"l1": 0.5, "l2": 0.01}
    assert regularizers.serialize(regularizers.l2(0.5)) == {
        "class_name": "L1L2",
        "config": {"l1": 0.0, "l2": 0.5},
    }
    w = np.array([1.0, -2.0])
    assert regularizers.l1_l2(0.1, 0.2)(w) == pytest.approx(0.1 * 3 + 0.2 * 5)


def test_regularizer_refusals():
    with pytest.raises(ValueError, match="subclass gradstep.regularizers.Regularizer"):
        regularizers.get(lambda w: 0.0)
    with pytest.raises(ValueError, match="Unknown regularizer: 'l3'"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match="Bad regularizer config"):
        regularizers.deserialize({"class_name": "L1L2", "config": {"l4": 1}})


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 4)])
def test_seeded_orthogonal_is_keras_own_values(shape):
    # keras/initializers.py Orthogonal.__call__ (2.2.4), as written there
    num_rows = 1
    for dim in shape[:-1]:
        num_rows *= dim
    flat_shape = (num_rows, shape[-1])
    a = np.random.RandomState(3).normal(0.0, 1.0, flat_shape)
    u, _, v = np.linalg.svd(a, full_matrices=False)
    q = (u if u.shape == flat_shape else v).reshape(shape)
    want = 1.5 * q[: shape[0], : shape[1]]
    got = initializers.Orthogonal(gain=1.5, seed=3)(shape, dtype="float64")
    np.testing.assert_array_equal(got, want)
    flat = got.reshape(flat_shape)
    small = min(flat_shape)
    gram = flat.T @ flat if flat_shape[0] >= flat_shape[1] else flat @ flat.T
    np.testing.assert_allclose(gram, 2.25 * np.eye(small), atol=1e-12)
