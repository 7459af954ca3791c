"""gradstep.utils: Keras 2.2.4's to_categorical, normalize, Sequence, get_test_data and
the global custom objects consulted by every deserializer."""

from __future__ import annotations

import numpy as np
import pytest

from gradstep import (
    activations,
    constraints,
    initializers,
    losses,
    metrics,
    optimizers,
    regularizers,
    utils,
)
from gradstep.utils import data_utils, generic_utils, np_utils, test_utils


# ---- to_categorical / normalize --------------------------------------------------------
def test_to_categorical_as_keras():
    out = utils.to_categorical([0, 2, 1])
    assert out.dtype == np.float32 and out.shape == (3, 3)
    np.testing.assert_array_equal(out, [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert utils.to_categorical(np.array([[1], [0]]), 4).shape == (2, 4)
    assert utils.to_categorical(np.zeros((2, 3), int), 2).shape == (2, 3, 2)
    assert utils.to_categorical([1.0, 0.0], dtype="float64").dtype == np.float64
    assert np_utils.to_categorical is utils.to_categorical


@pytest.mark.parametrize(
    "args, words",
    [
        (([-1, 0],), ">= 0"),
        (([3], 2), "out of range for num_classes=2"),
        (([0.5],), "integer class labels"),
        ((["a"],), "integer class labels"),
        (([], None), "num_classes is needed"),
        (([1], 2.5), "num_classes must be a positive integer"),
    ],
)
def test_to_categorical_refusals(args, words):
    with pytest.raises(ValueError) as info:
        utils.to_categorical(*args)
    assert words in str(info.value) and "to_categorical" in str(info.value)


def test_normalize_as_keras():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(utils.normalize(x), [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(utils.normalize(x, axis=0), x / np.array([[3.0, 4.0]]))
    np.testing.assert_allclose(utils.normalize(x, order=1), [[3 / 7, 4 / 7], [0, 0]])
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        utils.normalize(x, axis=2)


# ---- Sequence ----------------------------------------------------------------------------
class _Batches(utils.Sequence):
    def __init__(self):
        self.ended = 0

    def __len__(self):
        return 3

    def __getitem__(self, index):
        return np.full((2, 1), index), np.full((2, 1), -index)

    def on_epoch_end(self):
        self.ended += 1


def test_sequence_iterates_its_batches_once():
    seq = _Batches()
    assert [int(x[0, 0]) for x, _ in seq] == [0, 1, 2]
    seq.on_epoch_end()
    assert seq.ended == 1
    assert data_utils.Sequence is utils.Sequence


def test_sequence_base_names_what_to_define():
    with pytest.raises(NotImplementedError, match="__len__"):
        len(utils.Sequence())
    with pytest.raises(NotImplementedError, match="__getitem__"):
        utils.Sequence()[0]


# ---- get_test_data -------------------------------------------------------------------
def _keras_get_test_data(
    num_train, num_test, input_shape, output_shape, classification, num_classes
):
    # Keras 2.2.4's keras/utils/test_utils.py, as written there.
    samples = num_train + num_test
    if classification:
        y = np.random.randint(0, num_classes, size=(samples,))
        X = np.zeros((samples,) + input_shape, dtype=np.float32)
        for i in range(samples):
            X[i] = np.random.normal(loc=y[i], scale=0.7, size=input_shape)
    else:
        y_loc = np.random.random((samples,))
        X = np.zeros((samples,) + input_shape, dtype=np.float32)
        y = np.zeros((samples,) + output_shape, dtype=np.float32)
        for i in range(samples):
            X[i] = np.random.normal(loc=y_loc[i], scale=0.7, size=input_shape)
            y[i] = np.random.normal(loc=y_loc[i], scale=0.7, size=output_shape)
    return (X[:num_train], y[:num_train]), (X[num_train:], y[num_train:])


@pytest.mark.parametrize("classification", [True, False])
def test_get_test_data_draws_keras_arrays(classification):
    args = (20, 10, (4,), (3,), classification, 3)
    np.random.seed(1337)
    want = _keras_get_test_data(*args)
    np.random.seed(1337)
    got = test_utils.get_test_data(*args)
    for w, g in zip(want, got):
        for a, b in zip(w, g):
            np.testing.assert_array_equal(a, b)
            assert a.dtype == b.dtype
    (x, y), (xt, yt) = got
    assert x.shape == (20, 4) and xt.shape == (10, 4)
    assert y.shape == ((20,) if classification else (20, 3))


def test_get_test_data_refusals():
    with pytest.raises(ValueError, match="num_train"):
        test_utils.get_test_data(num_train=-1)
    with pytest.raises(ValueError, match="num_classes"):
        test_utils.get_test_data(num_classes=0)


# ---- custom objects --------------------------------------------------------------------
class _Halve(constraints.Constraint):
    def __call__(self, w):
        return w / 2


class _Square(activations.Activation_):
    name = "square_act"

    def forward(self, x, out):
        return np.multiply(x, x, out=out)

    def backward(self, x, y, dy, out):
        return np.multiply(dy, 2 * x, out=out)


class _Twice(losses.Loss):
    name = "twice_mse"

    def score(self, y, p):
        return 2 * np.mean((p - y) ** 2, axis=-1)

    def gradient(self, y, p):
        return 4 * (p - y) / p.shape[-1]


class _Sevens(initializers.Initializer):
    def sample(self, shape, rng):
        return np.full(shape, 7.0)


class _Nothing(regularizers.Regularizer):
    def penalty(self, w):
        return 0.0

    def add_gradient(self, w, grad):
        pass


class _MySGD(optimizers.SGD):
    pass


def _mean_p(y_true, y_pred):
    return np.mean(y_pred, axis=-1)


def test_custom_object_scope_reaches_every_deserializer():
    objects = {
        "Halve": _Halve,
        "square_act": _Square(),
        "twice_mse": _Twice(),
        "Sevens": _Sevens,
        "Nothing": _Nothing,
        "MySGD": _MySGD,
        "mean_p": _mean_p,
    }
    with utils.custom_object_scope(objects) as scope:
        assert isinstance(scope, generic_utils.CustomObjectScope)
        assert isinstance(
            constraints.deserialize({"class_name": "Halve", "config": {}}), _Halve
        )
        assert isinstance(activations.deserialize("square_act"), _Square)
        assert isinstance(activations.get("square_act"), _Square)
        assert isinstance(losses.get("twice_mse"), _Twice)
        assert isinstance(
            initializers.deserialize({"class_name": "Sevens", "config": {}}), _Sevens
        )
        assert isinstance(initializers.get("Sevens"), _Sevens)
        assert isinstance(
            regularizers.deserialize({"class_name": "Nothing", "config": {}}), _Nothing
        )
        assert isinstance(
            optimizers.deserialize({"class_name": "MySGD", "config": {"lr": 0.5}}),
            _MySGD,
        )
        assert metrics.get("mean_p") is _mean_p
    for lookup in (
        lambda: activations.get("square_act"),
        lambda: losses.get("twice_mse"),
        lambda: constraints.get("Halve"),
        lambda: metrics.get("mean_p"),
    ):
        with pytest.raises(ValueError, match="Unknown"):
            lookup()
    assert "Halve" not in utils.get_custom_objects()


def test_get_custom_objects_is_the_global_dict():
    table = utils.get_custom_objects()
    table["Halve"] = _Halve
    try:
        assert isinstance(constraints.get("Halve"), _Halve)
        assert "Halve" in generic_utils.get_custom_objects()
    finally:
        del table["Halve"]


def test_argument_custom_objects_come_before_global_ones():
    class Other(_Halve):
        pass

    with utils.CustomObjectScope({"Halve": _Halve}):
        got = constraints.deserialize(
            {"class_name": "Halve", "config": {}}, custom_objects={"Halve": Other}
        )
        assert type(got) is Other


def test_scope_restores_even_after_an_error():
    with pytest.raises(RuntimeError):
        with utils.custom_object_scope({"Halve": _Halve}):
            raise RuntimeError
    assert "Halve" not in utils.get_custom_objects()
    with pytest.raises(TypeError, match="argument 0 must be a dict"):
        utils.CustomObjectScope(["Halve"])


def test_serialize_and_deserialize_keras_object():
    c = constraints.MaxNorm(3)
    config = utils.serialize_keras_object(c)
    assert config == {"class_name": "MaxNorm", "config": {"max_value": 3.0, "axis": 0}}
    again = utils.deserialize_keras_object(
        config, module_objects={"MaxNorm": constraints.MaxNorm}
    )
    assert again.get_config() == c.get_config()
    assert utils.serialize_keras_object(_mean_p) == "_mean_p"
    assert utils.serialize_keras_object(None) is None
    with pytest.raises(ValueError, match="Unknown constraint: Nope"):
        utils.deserialize_keras_object("Nope", {}, printable_module_name="constraint")
    with pytest.raises(ValueError, match="Improper config format"):
        utils.deserialize_keras_object({"class_name": "MaxNorm"})


# ---- Progbar and keras_test ------------------------------------------------------------
def test_progbar_averages_as_keras():
    import io

    out = io.StringIO()
    bar = generic_utils.Progbar(10, width=10, interval=0, stream=out)
    bar.update(4, [("loss", 1.0), ("lr", 0.1)])
    bar.add(6, [("loss", 2.0)])
    text = out.getvalue()
    assert " 4/10 [===>......] - loss: 1.0000" in text
    assert "10/10 [==========] - loss: 1.6000 - lr: 0.1000\n" in text  # (4*1 + 6*2)/10
    out = io.StringIO()
    bar = utils.Progbar(4, verbose=2, stream=out, stateful_metrics=["acc"])
    bar.update(2, [("acc", 0.5)])
    assert out.getvalue() == ""
    bar.update(4, [("acc", 0.75)])
    assert out.getvalue() == "4/4 [==============================] - acc: 0.7500\n"
    with pytest.raises(ValueError, match="target must be an integer or None"):
        utils.Progbar("10")
    with pytest.raises(ValueError, match="verbose must be 0, 1 or 2"):
        utils.Progbar(3, verbose=3)


def test_keras_test_decorator_returns_the_result():
    @test_utils.keras_test
    def f(x):
        """doc"""
        return x + 1

    assert f(1) == 2 and f.__name__ == "f" and f.__doc__ == "doc"
