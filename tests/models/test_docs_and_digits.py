"""The Keras docs example as written, and real training on scikit-learn's digits."""

from __future__ import annotations

import numpy as np
import pytest

from gradstep import optimizers


def test_keras_docs_example_runs_as_written_and_trains():
    from gradstep import optimizers
    from gradstep.layers import Activation, Dense
    from gradstep.models import Sequential

    model = Sequential()
    model.add(Dense(64, kernel_initializer="uniform", input_shape=(10,)))
    model.add(Activation("tanh"))
    model.add(Activation("softmax"))
    sgd = optimizers.SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True)
    model.compile(loss="mean_squared_error", optimizer=sgd)
    model.compile(loss="mean_squared_error", optimizer="sgd")  # by name: defaults

    assert isinstance(model.optimizer, optimizers.SGD) and model.optimizer.lr == 0.01
    assert model.optimizer.momentum == 0.0
    model.compile(loss="mean_squared_error", optimizer=sgd)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 10)).astype("float32")
    y = np.eye(64, dtype="float32")[rng.integers(0, 4, 256)]
    history = model.fit(x, y, batch_size=32, epochs=8, verbose=0)
    loss = history.history["loss"]
    assert loss[-1] < loss[0]
    assert sgd.iterations == 64


def _digits():
    datasets = pytest.importorskip("sklearn.datasets")
    digits = datasets.load_digits()
    x = (digits.data / 16.0).astype("float32")
    order = np.random.default_rng(0).permutation(len(x))
    train, test = order[:1400], order[1400:]
    return x[train], digits.target[train], x[test], digits.target[test]


def _mlp(seed):
    from gradstep.layers import Dense
    from gradstep.models import Sequential

    return Sequential(
        [
            Dense(128, activation="relu", input_shape=(64,)),
            Dense(10, activation="softmax"),
        ],
        seed=seed,
    )


def test_digits_reaches_95_percent_with_adam():
    x, y, xt, yt = _digits()
    model = _mlp(0)
    model.compile(
        optimizers.Adam(lr=0.003),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        x, y, batch_size=32, epochs=6, verbose=0, validation_data=(xt, yt)
    )
    loss, acc = model.evaluate(xt, yt, verbose=0)
    assert acc >= 0.95
    assert history.history["val_acc"][-1] == pytest.approx(acc, rel=1e-6)
    assert np.mean(model.predict(xt).argmax(axis=1) == yt) == pytest.approx(
        acc, rel=1e-6
    )


@pytest.mark.parametrize("name", optimizers.registered_names())
def test_every_optimizer_reduces_the_loss(name):
    x, y, _, _ = _digits()
    model = _mlp(1)
    onehot = np.eye(10, dtype="float32")[y]
    model.compile(
        optimizers.get({"class_name": name, "config": {"engine": "reference"}}),
        "categorical_crossentropy",
        metrics=["acc"],
    )
    before = model.evaluate(x, onehot, verbose=0)[0]
    model.fit(x, onehot, batch_size=32, epochs=2, verbose=0)
    assert model.evaluate(x, onehot, verbose=0)[0] < 0.95 * before
