"""Training semantics against an independent float64 loop, callbacks, metrics, display,
determinism, and the optimizer contract (one apply_gradients per batch, flat buffers)."""

from __future__ import annotations

import numpy as np
import pytest

from gradstep import backend, callbacks, optimizers
from gradstep.kernels.flat import contiguous_span
from gradstep.layers import Activation, Dense, Dropout
from gradstep.models import Sequential, load_model, set_random_seed

RNG = np.random.default_rng(7)


@pytest.fixture
def float64():
    backend.set_floatx("float64")


def _reference_sgd(w, b, x, y, lr, batch_size, epochs, xv, yv):
    """Keras 2.2.4's fit loop for a linear model with mse, written out by hand."""
    history = {"loss": [], "val_loss": []}
    for _ in range(epochs):
        total, seen = 0.0, 0
        for start in range(0, len(x), batch_size):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            p = xb @ w + b
            total += np.mean(np.mean((p - yb) ** 2, axis=-1)) * len(xb)
            seen += len(xb)
            g = 2 * (p - yb) / yb.shape[1] / len(xb)
            w, b = w - lr * (xb.T @ g), b - lr * g.sum(axis=0)
        history["loss"].append(total / seen)
        pv = xv @ w + b
        history["val_loss"].append(np.mean(np.mean((pv - yv) ** 2, axis=-1)))
    return w, b, history


def test_fit_matches_hand_written_keras_loop(float64):
    x, y = RNG.normal(size=(10, 3)), RNG.normal(size=(10, 2))
    xv, yv = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 2))
    model = Sequential([Dense(2, input_dim=3, bias_initializer="normal")], seed=1)
    assert model.layers[0].kernel.shape == (3, 2)  # Keras layout: (input_dim, units)
    w0, b0 = model.get_weights()
    model.compile(optimizers.SGD(lr=0.1, engine="reference"), "mse")
    history = model.fit(
        x, y, batch_size=4, epochs=3, shuffle=False, verbose=0, validation_data=(xv, yv)
    )
    w, b, expected = _reference_sgd(w0, b0, x, y, 0.1, 4, 3, xv, yv)
    assert sorted(history.history) == ["loss", "val_loss"]
    assert history.epoch == [0, 1, 2]
    for key in expected:
        np.testing.assert_allclose(history.history[key], expected[key], rtol=1e-12)
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=1e-12)
    np.testing.assert_allclose(model.get_weights()[1], b, rtol=1e-12)
    assert model.optimizer.iterations == 9  # 3 batches per epoch, the last one partial


def test_batch_loss_is_measured_before_the_update(float64):
    x, y = RNG.normal(size=(6, 3)), RNG.normal(size=(6, 1))
    model = Sequential([Dense(1, input_dim=3)], seed=2)
    model.compile(optimizers.SGD(lr=0.5, engine="reference"), "mse")
    before = model.test_on_batch(x, y)
    assert model.train_on_batch(x, y) == pytest.approx(before, rel=1e-14)
    assert model.test_on_batch(x, y) != pytest.approx(before)


class SpyOptimizer:
    """A non-gradstep optimizer (like a wrapped native one): records each call."""

    def __init__(self):
        self.inner = optimizers.Adam(engine="reference")
        self.calls = []

    @property
    def lr(self):
        return self.inner.lr

    @lr.setter
    def lr(self, value):
        self.inner.lr = value

    @property
    def iterations(self):
        return self.inner.iterations

    def apply_gradients(self, pairs):
        pairs = list(pairs)
        grads, params = [g for g, _ in pairs], [p for _, p in pairs]
        self.calls.append(
            (params, contiguous_span(grads), contiguous_span(params), grads)
        )
        self.inner.apply_gradients(pairs)


def test_one_apply_gradients_per_batch_on_flat_buffers():
    model = Sequential(
        [
            Dense(5, activation="relu", input_shape=(4,)),
            Dropout(0.2),
            Dense(3, activation="softmax"),
        ],
        seed=0,
    )
    spy = SpyOptimizer()
    model.compile(spy, "categorical_crossentropy")
    x, y = RNG.normal(size=(20, 4)), np.eye(3)[RNG.integers(0, 3, 20)]
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert len(spy.calls) == 6
    first = spy.calls[0][0]
    for params, grad_span, param_span, grads in spy.calls:
        assert all(p is q for p, q in zip(params, first)) and len(params) == 4
        assert grad_span is not None and param_span is not None
        assert grad_span.size == param_span.size == model.count_params()
        assert [g.shape for g in grads] == [p.shape for p in params]
        assert not np.shares_memory(grad_span, param_span)


def test_fused_engine_or_default_gives_the_same_training_as_reference():
    x, y = RNG.normal(size=(30, 4)).astype("float32"), RNG.integers(0, 3, 30)
    results = []
    for engine in ("reference", None):
        model = Sequential(
            [
                Dense(6, activation="tanh", input_shape=(4,)),
                Dense(3, activation="softmax"),
            ],
            seed=5,
        )
        model.compile(optimizers.Adam(engine=engine), "sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        results.append(model.get_weights())
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_same_seed_same_weights_and_history():
    x, y = RNG.normal(size=(40, 4)), RNG.integers(0, 3, 40)

    def run(make):
        model = make()
        model.compile(
            optimizers.Adam(engine="reference"),
            "sparse_categorical_crossentropy",
            metrics=["acc"],
        )
        history = model.fit(x, y, batch_size=8, epochs=3, verbose=0)
        return model.get_weights(), history.history

    def seeded():
        return Sequential(
            [
                Dense(8, activation="relu", input_shape=(4,)),
                Dropout(0.3),
                Dense(3, activation="softmax"),
            ],
            seed=11,
        )

    def globally_seeded():
        set_random_seed(4)
        return Sequential(
            [
                Dense(8, activation="relu", input_shape=(4,)),
                Dropout(0.3),
                Dense(3, activation="softmax"),
            ]
        )

    for make in (seeded, globally_seeded):
        (w1, h1), (w2, h2) = run(make), run(make)
        assert h1 == h2
        assert all(np.array_equal(a, b) for a, b in zip(w1, w2))
    other = Sequential([Dense(8, input_shape=(4,))], seed=12).get_weights()[0]
    assert not np.array_equal(other, seeded().get_weights()[0])


def test_shuffle_false_keeps_order_and_shuffle_true_permutes():
    seen = []
    model = Sequential([Dense(1, input_dim=1)], seed=0)
    model.compile(optimizers.SGD(lr=0.0, engine="reference"), "mse")
    x = np.arange(12, dtype=float).reshape(-1, 1)
    probe = callbacks.LambdaCallback(on_batch_begin=lambda batch, logs: None)
    original = model._train_step

    def record(xb, yb, wb):
        seen.extend(xb[0][:, 0].tolist())
        return original(xb, yb, wb)

    model._train_step = record
    model.fit(x, x, batch_size=5, shuffle=False, verbose=0, callbacks=[probe])
    assert seen == list(range(12))
    seen.clear()
    model.fit(x, x, batch_size=5, shuffle=True, verbose=0)
    assert sorted(seen) == list(range(12)) and seen != list(range(12))
    seen.clear()
    model.fit(x, x, batch_size=4, shuffle="batch", verbose=0)
    blocks = [seen[i : i + 4] for i in range(0, 12, 4)]
    assert sorted(blocks) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]


@pytest.mark.parametrize(
    ("loss", "units", "metric", "key", "fn"),
    [
        ("categorical_crossentropy", 3, "accuracy", "acc", "categorical"),
        ("sparse_categorical_crossentropy", 3, "acc", "acc", "sparse"),
        ("binary_crossentropy", 1, "accuracy", "acc", "binary"),
        ("mse", 1, "accuracy", "acc", "binary"),
        ("categorical_crossentropy", 3, "mse", "mean_squared_error", "mse"),
        ("categorical_crossentropy", 3, "ce", "ce", "ce"),
    ],
)
def test_metrics_named_and_chosen_as_keras(float64, loss, units, metric, key, fn):
    x = RNG.normal(size=(25, 4))
    labels = RNG.integers(0, units if units > 1 else 2, 25)
    y = (
        labels
        if loss.startswith("sparse")
        else (np.eye(units)[labels] if units > 1 else labels.astype(float))
    )
    activation = "softmax" if units > 1 else "sigmoid"
    model = Sequential([Dense(units, activation=activation, input_shape=(4,))], seed=3)
    model.compile(optimizers.SGD(lr=0.0, engine="reference"), loss, metrics=[metric])
    history = model.fit(x, y, batch_size=10, epochs=1, verbose=0, validation_split=0.2)
    assert sorted(history.history) == sorted(["loss", key, "val_loss", "val_" + key])
    assert model.metrics_names == ["loss", key]
    p = model.predict(x[:20])
    t = y[:20]
    expected = {
        "categorical": lambda: np.mean(p.argmax(1) == t.argmax(1)),
        "sparse": lambda: np.mean(p.argmax(1) == t),
        "binary": lambda: np.mean(np.round(p[:, 0]) == t),
        "mse": lambda: np.mean((p - t) ** 2),
        "ce": lambda: np.mean(-np.sum(t * np.log(p / p.sum(1, keepdims=True)), axis=1)),
    }[fn]()
    # lr=0: the sample-weighted mean of batch values is the full-data value.
    assert history.history[key][0] == pytest.approx(expected, rel=1e-12)
    assert model.evaluate(x[:20], y[:20], verbose=0)[1] == pytest.approx(
        expected, rel=1e-12
    )


def test_regularization_is_part_of_the_loss(float64):
    from gradstep import regularizers

    x, y = RNG.normal(size=(8, 3)), RNG.normal(size=(8, 2))
    model = Sequential(
        [Dense(2, input_dim=3, kernel_regularizer=regularizers.l2(0.3))], seed=0
    )
    model.compile(optimizers.SGD(lr=0.0, engine="reference"), "mse")
    w, b = model.get_weights()
    expected = np.mean(np.mean((x @ w + b - y) ** 2, axis=1)) + 0.3 * np.sum(w**2)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(expected, rel=1e-12)


def _plateau_model():
    model = Sequential([Dense(2, input_dim=3)], seed=0)
    model.compile(optimizers.SGD(lr=0.0, engine="reference"), "mse")
    return model, RNG.normal(size=(12, 3)), RNG.normal(size=(12, 2))


def test_learning_rate_scheduler_sets_lr():
    model, x, y = _plateau_model()
    seen = []
    cb = callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    probe = callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: seen.append(model.optimizer.lr)
    )
    model.fit(x, y, epochs=3, verbose=0, callbacks=[cb, probe])
    assert seen == [0.1, 0.05, 0.1 / 3]


def test_reduce_lr_on_plateau_and_early_stopping():
    model, x, y = _plateau_model()
    reduce = callbacks.ReduceLROnPlateau(
        monitor="loss", factor=0.5, patience=2, min_lr=0.0
    )
    # SGD with a tiny learning rate: the loss improves by less than min_delta.
    model.optimizer.lr = 1e-12
    history = model.fit(x, y, epochs=5, verbose=0, callbacks=[reduce])
    assert history.history["lr"] == [1e-12, 1e-12, 1e-12, 5e-13, 5e-13]
    stop = callbacks.EarlyStopping(monitor="loss", patience=1, min_delta=1e-3)
    history = model.fit(x, y, epochs=10, verbose=0, callbacks=[stop])
    assert history.epoch == [0, 1] and model.stop_training


def test_model_checkpoint_csv_logger_and_lambda(tmp_path):
    model, x, y = _plateau_model()
    model.optimizer.lr = 0.01
    counts = {"batches": 0}
    lam = callbacks.LambdaCallback(
        on_batch_end=lambda b, logs: counts.__setitem__(
            "batches", counts["batches"] + 1
        )
    )
    csv_path = tmp_path / "log.csv"
    ckpt = callbacks.ModelCheckpoint(
        str(tmp_path / "m-{epoch:02d}.npz"), monitor="loss", save_best_only=True
    )
    history = model.fit(
        x,
        y,
        epochs=3,
        batch_size=5,
        verbose=0,
        callbacks=[ckpt, callbacks.CSVLogger(str(csv_path)), lam],
    )
    assert counts["batches"] == 9
    rows = csv_path.read_text().splitlines()
    assert rows[0] == "epoch,loss"
    assert [float(r.split(",")[1]) for r in rows[1:]] == history.history["loss"]
    saved = sorted(p.name for p in tmp_path.glob("m-*.npz"))
    assert saved == [
        "m-01.npz",
        "m-02.npz",
        "m-03.npz",
    ]  # the loss improves every epoch
    restored = load_model(tmp_path / "m-03.npz")
    assert all(
        np.array_equal(a, b)
        for a, b in zip(restored.get_weights(), model.get_weights())
    )


def test_progress_display(capsys, monkeypatch):
    from gradstep import _progress

    model, x, y = _plateau_model()
    model.fit(x, y, epochs=2, verbose=2, validation_split=0.25)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Train on 9 samples, validate on 3 samples"
    assert out[1] == "Epoch 1/2" and out[2].startswith(" - ") and " - loss: " in out[2]
    assert " - val_loss: " in out[2] and out[3] == "Epoch 2/2"
    monkeypatch.setattr(_progress, "_tqdm", lambda: None)
    model.fit(x, y, epochs=1, verbose=1)
    out = capsys.readouterr().out
    assert "12/12 [==============================]" in out and "- loss: " in out
    monkeypatch.undo()
    pytest.importorskip("tqdm")
    model.fit(x, y, epochs=1, verbose=1)
    captured = capsys.readouterr()
    assert "Epoch 1/1" in captured.out and "loss: " in captured.out + captured.err


def test_summary_and_config_round_trip():
    model = Sequential(
        [
            Dense(64, kernel_initializer="uniform", input_shape=(10,)),
            Activation("tanh"),
            Dropout(0.5),
            Dense(3, activation="softmax"),
        ]
    )
    lines = []
    model.summary(print_fn=lines.append)
    assert lines[1].split() == ["Layer", "(type)", "Output", "Shape", "Param", "#"]
    assert lines[3].split() == [model.layers[0].name, "(Dense)", "(None,", "64)", "704"]
    assert "Total params: 899" in lines and "Trainable params: 899" in lines
    assert all(len(line) <= 65 for line in lines)
    from gradstep.models import model_from_json

    clone = model_from_json(model.to_json())
    assert clone.get_config() == model.get_config()
    assert [w.shape for w in clone.get_weights()] == [
        w.shape for w in model.get_weights()
    ]
    init = model.layers[0].kernel
    assert init.min() >= -0.05 and init.max() <= 0.05  # Keras's 'uniform'


def test_deferred_build_and_predict_copies():
    model = Sequential([Dense(4, activation="relu"), Dense(2)], seed=0)
    assert not model.built
    model.compile(optimizers.SGD(engine="reference"), "mse")
    x = RNG.normal(size=(9, 3)).astype("float32")
    model.fit(x, RNG.normal(size=(9, 2)), verbose=0, batch_size=4)
    assert model.built and model.input_shape == (None, 3)
    p1 = model.predict(x, batch_size=4)
    p2 = model.predict(x[:4], batch_size=4)
    np.testing.assert_array_equal(p1[:4], p2)
    assert p1.dtype == np.float32


def test_frozen_layer_is_not_trained():
    model = Sequential(
        [Dense(4, activation="relu", input_shape=(3,)), Dense(2)], seed=0
    )
    model.layers[0].trainable = False
    model.compile(optimizers.SGD(lr=0.1, engine="reference"), "mse")
    frozen = model.get_weights()[:2]
    model.fit(RNG.normal(size=(10, 3)), RNG.normal(size=(10, 2)), verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights()[:2], frozen))
    assert len(model.trainable_weights) == 2
