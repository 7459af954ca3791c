"""Every documented error: a specific exception and message, and nothing half-done."""

from __future__ import annotations

import numpy as np
import pytest

from gradstep import initializers, losses, metrics, optimizers
from gradstep.layers import Activation, Dense, Dropout, deserialize
from gradstep.models import Sequential

RNG = np.random.default_rng(5)
X = RNG.normal(size=(20, 4))
Y = RNG.integers(0, 3, 20)


def _model(loss="sparse_categorical_crossentropy"):
    model = Sequential(
        [Dense(5, activation="relu", input_shape=(4,)), Dense(3, activation="softmax")],
        seed=0,
    )
    model.compile(optimizers.Adam(engine="reference"), loss)
    return model


def _unchanged(model, before):
    assert model.optimizer.iterations == 0
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))


CASES = [
    (
        "wrong input shape",
        lambda: (RNG.normal(size=(20, 5)), Y),
        {},
        r"expected dense_\d+_input to have shape \(4,\) but got array with shape \(5,\)",
    ),
    (
        "wrong input rank",
        lambda: (RNG.normal(size=(20, 4, 1)), Y),
        {},
        r"to have 2 dimensions, but got array with shape \(20, 4, 1\)",
    ),
    (
        "lengths differ",
        lambda: (X, Y[:15]),
        {},
        "Found 20 input samples and 15 target samples",
    ),
    (
        "label out of range",
        lambda: (X, np.where(Y == 0, 3, Y)),
        {},
        r"labels must be in \[0, 2\] for an output with 3 classes; got labels from 1 to 3",
    ),
    ("negative label", lambda: (X, Y - 1), {}, "got labels from -1"),
    ("non-integer labels", lambda: (X, Y + 0.5), {}, "expects integer class labels"),
    (
        "sparse labels of wrong shape",
        lambda: (X, np.eye(3)[Y]),
        {},
        "expects integer class labels of shape",
    ),
    (
        "NaN in x",
        lambda: (np.where(X > 1.5, np.nan, X), Y),
        {},
        r"x contains NaN or infinity \(x\[\d+, \d+\] = nan\)",
    ),
    (
        "inf in y",
        lambda: (X, np.where(Y == 1, np.inf, Y)),
        {},
        "y contains NaN or infinity",
    ),
    (
        "batch_size 0",
        lambda: (X, Y),
        {"batch_size": 0},
        "batch_size must be an integer >= 1",
    ),
    (
        "negative epochs",
        lambda: (X, Y),
        {"epochs": -1},
        "epochs must be an integer >= 0",
    ),
    (
        "bad split",
        lambda: (X, Y),
        {"validation_split": 1.5},
        r"validation_split must be in",
    ),
    ("bad shuffle", lambda: (X, Y), {"shuffle": "yes"}, "shuffle must be True, False"),
    ("bad verbose", lambda: (X, Y), {"verbose": 3}, "verbose must be 0, 1 or 2"),
    (
        "bad validation data",
        lambda: (X, Y),
        {"validation_data": (X,)},
        "must contain 2 .* or 3",
    ),
    (
        "bad validation labels",
        lambda: (X, Y),
        {"validation_data": (X, Y + 5)},
        "labels must be in",
    ),
    ("sample weights", lambda: (X, Y), {"sample_weight": np.ones(19)}, "broadcast"),
]


@pytest.mark.parametrize(
    ("what", "data", "kwargs", "pattern"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_fit_input_raises_before_training(what, data, kwargs, pattern):
    model = _model()
    before = model.get_weights()
    x, y = data()
    with pytest.raises(ValueError, match=pattern):
        model.fit(x, y, **{"verbose": 0, **kwargs})
    _unchanged(model, before)


def test_one_hot_loss_with_integer_labels():
    model = _model("categorical_crossentropy")
    with pytest.raises(ValueError, match="expects targets to be binary matrices"):
        model.fit(X, Y, verbose=0)
    with pytest.raises(
        ValueError, match=r"A target array with shape \(20, 4\) was passed"
    ):
        model.fit(X, np.eye(4)[RNG.integers(0, 4, 20)], verbose=0)
    with pytest.raises(ValueError, match="expected dense_.*_input to have shape"):
        model.predict(RNG.normal(size=(3, 2)))
    with pytest.raises(ValueError, match="NaN"):
        model.evaluate(X * np.nan, np.eye(3)[Y], verbose=0)
    _unchanged(model, model.get_weights())


def test_fit_before_compile():
    model = Sequential([Dense(3, input_shape=(4,))])
    for call in (
        lambda: model.fit(X, Y, verbose=0),
        lambda: model.evaluate(X, Y),
        lambda: model.train_on_batch(X, Y),
    ):
        with pytest.raises(
            RuntimeError, match="You must compile a model before training"
        ):
            call()


def test_changed_after_compile():
    model = _model()
    model.add(Dense(3))
    with pytest.raises(RuntimeError, match="changed after compile"):
        model.fit(X, Y, verbose=0)


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (
            lambda: Activation("swish_nope"),
            r"Unknown activation: 'swish_nope'. Known "
            r"activations: elu, exponential, hard_sigmoid, linear, relu",
        ),
        (
            lambda: Dense(3, activation=np.tanh),
            "plain functions are not accepted|Could not interpret activation",
        ),
        (
            lambda: Dense(3, kernel_initializer="glorot"),
            r"Unknown initializer: 'glorot'.*"
            r"glorot_normal, glorot_uniform",
        ),
        (
            lambda: losses.get("cross_entropy"),
            r"Unknown loss: 'cross_entropy'. Known losses:"
            r".*categorical_crossentropy",
        ),
        (
            lambda: metrics.get("precision"),
            r"Unknown metric: 'precision'. Known metrics: acc",
        ),
        (
            lambda: deserialize({"class_name": "Conv2D", "config": {}}),
            r"Unknown layer: 'Conv2D'. Known layers: Activation, ",
        ),
        (lambda: _model().compile("adamw", "mse"), r"Unknown optimizer: adamw"),
        (
            lambda: _model().compile("adam", "mse", metrics=["f1"]),
            "Unknown metric: 'f1'",
        ),
        (lambda: _model().compile("adam"), "compile\\(\\) needs a loss"),
        (lambda: _model().compile("adam", "mse", metrics="acc"), "Expected a list"),
        (lambda: initializers.VarianceScaling(mode="fan"), "Invalid `mode` argument"),
        (lambda: Dense(0), "units must be a positive integer"),
        (lambda: Dropout(1.0), r"rate must be a number in \[0, 1\)"),
        (
            lambda: Dense(3, input_shape=(0,)),
            "input_shape must be a tuple of positive ints",
        ),
        (lambda: Sequential(seed=-1), "seed must be None or an integer >= 0"),
    ],
)
def test_unknown_names_and_bad_arguments(call, pattern):
    with pytest.raises((ValueError, TypeError), match=pattern):
        call()


def test_bad_model_structure():
    model = Sequential([Dense(3, input_shape=(4,), name="a")])
    with pytest.raises(ValueError, match='Name "a" is already the name of a layer'):
        model.add(Dense(2, name="a"))
    with pytest.raises(TypeError, match="must be an instance of class Layer"):
        model.add("dense")
    with pytest.raises(TypeError, match="Keyword argument not understood: 'unit'"):
        Dense(3, unit=4)
    with pytest.raises(
        ValueError, match="weight list of length 1, but the model was expecting 2"
    ):
        model.set_weights([np.zeros((4, 3))])
    before = model.get_weights()
    with pytest.raises(
        ValueError,
        match=r"shape \(4, 3\) not compatible with provided "
        r"weight shape \(3, 4\)",
    ):
        model.set_weights([np.zeros((3, 4)), np.zeros(3)])
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))
    with pytest.raises(ValueError, match="has not been built"):
        Sequential([Dense(3)]).count_params()


@pytest.mark.parametrize(
    "values,bad",
    [
        ([3e38, 3e38, -1.0], False),  # the sum overflows, the entries are finite
        ([np.inf, -np.inf, 1.0], True),  # the infinities cancel into NaN
        ([1.0, np.nan, 2.0], True),
        ([-np.inf, 0.0, 0.0], True),
    ],
)
def test_finite_check_looks_at_entries_when_the_sum_is_not_finite(values, bad):
    from gradstep.models._data import require_finite

    array = np.array(values, dtype=np.float32)
    if bad:
        with pytest.raises(ValueError, match=r"x contains NaN or infinity \(x\[\d\]"):
            require_finite(array, "x")
    else:
        require_finite(array, "x")
