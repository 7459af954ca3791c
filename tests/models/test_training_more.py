"""Training features: sample and class weights (Keras's weighted mean), weighted
metrics, validation sample weights, callbacks' validation_data, the generator loops,
predict_classes/proba, one optimizer step per batch, optimizer reuse across compiles."""

from __future__ import annotations

import numpy as np
import pytest

from gradstep import callbacks, optimizers
from gradstep.layers import Dense, Dropout
from gradstep.models import Sequential
from gradstep.utils import Sequence

RNG = np.random.default_rng(5)
X = RNG.normal(size=(12, 3))
Y = RNG.normal(size=(12, 2))
LABELS = RNG.integers(0, 3, 12)
ONEHOT = np.eye(3)[LABELS]


def _linear(units=2, lr=0.1, **compile_kwargs):
    model = Sequential(
        [Dense(units, input_shape=(3,), use_bias=False, dtype="float64")], seed=1
    )
    model.compile(optimizers.SGD(lr=lr, engine="reference"), "mse", **compile_kwargs)
    return model


def test_sample_weighted_loss_and_step_by_hand():
    model = _linear()
    w0 = model.get_weights()[0]
    sw = np.array([0.0, 2, 1, 0, 3, 1, 1, 0, 2, 1, 1, 1])
    loss = model.train_on_batch(X, Y, sample_weight=sw)
    p = X @ w0
    score = np.mean((p - Y) ** 2, axis=1)
    nonzero = np.mean(sw != 0)
    assert loss == pytest.approx(np.mean(score * sw / nonzero), rel=1e-12)
    grad = X.T @ ((2.0 / 2) * (p - Y) * (sw / (12 * nonzero))[:, None])
    np.testing.assert_allclose(model.get_weights()[0], w0 - 0.1 * grad, rtol=1e-12)


def test_class_weight_equals_the_sample_weights_it_stands_for():
    table = {0: 1.0, 1: 3.0, 2: 0.5}
    a = Sequential(
        [Dense(3, input_shape=(3,), activation="softmax", dtype="float64")], seed=2
    )
    b = Sequential(
        [Dense(3, input_shape=(3,), activation="softmax", dtype="float64")], seed=2
    )
    for m in (a, b):
        m.compile(optimizers.Adam(engine="reference"), "categorical_crossentropy")
    ha = a.fit(
        X, ONEHOT, batch_size=5, epochs=2, verbose=0, shuffle=False, class_weight=table
    )
    sw = np.array([table[c] for c in LABELS])
    hb = b.fit(
        X, ONEHOT, batch_size=5, epochs=2, verbose=0, shuffle=False, sample_weight=sw
    )
    assert ha.history == hb.history
    for u, v in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(u, v)
    # sample weights win over class weights, as in Keras
    c = Sequential(
        [Dense(3, input_shape=(3,), activation="softmax", dtype="float64")], seed=2
    )
    c.compile(optimizers.Adam(engine="reference"), "categorical_crossentropy")
    with pytest.warns(
        UserWarning, match="Found both `sample_weight` and `class_weight`"
    ):
        hc = c.fit(
            X,
            ONEHOT,
            batch_size=5,
            epochs=2,
            verbose=0,
            shuffle=False,
            sample_weight=sw,
            class_weight={0: 9.0, 1: 9.0, 2: 9.0},
        )
    assert hc.history == hb.history


def test_class_weight_for_sparse_and_binary_targets():
    sparse = Sequential([Dense(3, input_shape=(3,), activation="softmax")], seed=2)
    sparse.compile("sgd", "sparse_categorical_crossentropy")
    sparse.fit(X, LABELS, verbose=0, class_weight={0: 1, 1: 2, 2: 3})
    binary = Sequential([Dense(1, input_shape=(3,), activation="sigmoid")], seed=2)
    binary.compile("sgd", "binary_crossentropy")
    binary.fit(X, (LABELS > 0).astype(float), verbose=0, class_weight={0: 1, 1: 2})
    with pytest.raises(ValueError, match="must contain all classes"):
        binary.fit(X, (LABELS > 0).astype(float), verbose=0, class_weight={0: 1})
    with pytest.raises(ValueError, match="must be a number"):
        binary.fit(
            X, (LABELS > 0).astype(float), verbose=0, class_weight={0: "a", 1: 1}
        )
    with pytest.raises(ValueError, match="dict"):
        binary.fit(X, (LABELS > 0).astype(float), verbose=0, class_weight=[1, 2])


def test_weighted_metrics_and_validation_sample_weights():
    model = _linear(metrics=["mae"], weighted_metrics=["mae"])
    assert model.metrics_names == [
        "loss",
        "mean_absolute_error",
        "weighted_mean_absolute_error",
    ]
    sw = RNG.uniform(0.1, 2, 12)
    loss, mae, wmae = model.evaluate(X, Y, sample_weight=sw, verbose=0, batch_size=12)
    p = model.predict(X)
    per = np.mean(np.abs(p - Y), axis=1)
    assert mae == pytest.approx(per.mean(), rel=1e-12)
    assert wmae == pytest.approx(np.mean(per * sw), rel=1e-12)
    vsw = RNG.uniform(0.1, 2, 12)
    model = _linear(lr=0.0)
    h = model.fit(X, Y, validation_data=(X, Y, vsw), verbose=0, batch_size=12)
    expected = model.evaluate(X, Y, sample_weight=vsw, verbose=0, batch_size=12)
    assert h.history["val_loss"] == [pytest.approx(expected, rel=1e-12)]


def test_callbacks_see_validation_data_as_keras():
    seen = []
    probe = callbacks.LambdaCallback(
        on_train_begin=lambda logs: seen.append(probe.validation_data),
        on_epoch_begin=lambda epoch, logs: seen.append(probe.validation_data),
    )
    model = _linear()
    model.fit(X, Y, validation_data=(X[:4], Y[:4]), callbacks=[probe], verbose=0)
    assert seen[0] is None  # Keras 2.2.4 sets it after on_train_begin
    vx, vy, vw = seen[1]
    np.testing.assert_array_equal(vx, X[:4])
    np.testing.assert_array_equal(vy, Y[:4])
    np.testing.assert_array_equal(vw, np.ones(4))
    drop = Sequential([Dropout(0.1, input_shape=(3,)), Dense(2)])
    drop.compile("sgd", "mse")
    drop.fit(X, Y, validation_split=0.25, callbacks=[probe], verbose=0)
    assert len(seen[3]) == 4 and seen[3][3] == 0.0 and len(seen[3][0]) == 3


def test_zero_and_bad_sample_weights():
    model = _linear()
    before = model.get_weights()
    for bad, pattern in [
        (np.ones((12, 1)), "1-D"),
        (np.ones(5), "broadcast"),
        (np.array([np.nan] * 12), "NaN"),
        ("abc", "numbers"),
    ]:
        with pytest.raises(ValueError, match=pattern):
            model.fit(X, Y, sample_weight=bad, verbose=0)
    np.testing.assert_array_equal(before[0], model.get_weights()[0])


def test_one_optimizer_call_per_batch_over_all_trainable_weights():
    class Counting(optimizers.SGD):
        calls: list[int] = []

        def apply_gradients(self, grads_and_params, constraints=None):
            pairs = list(grads_and_params)
            Counting.calls.append(len(pairs))
            return super().apply_gradients(pairs, constraints)

    model = Sequential([Dense(4, input_shape=(3,)), Dense(2)])
    model.compile(Counting(lr=0.01, clipnorm=1.0), "mse")
    model.fit(X, Y, batch_size=4, epochs=1, verbose=0)
    assert Counting.calls == [4, 4, 4]


def test_recompiling_with_the_same_optimizer_gives_fresh_slots():
    opt = optimizers.Adam(lr=0.01, engine="reference")
    model = _linear()
    model.compile(opt, "mse")
    model.fit(X, Y, verbose=0, epochs=2)
    assert opt.iterations == 2
    model.compile(opt, "mse")
    assert not opt.built and opt.iterations == 2
    model.fit(X, Y, verbose=0)
    assert opt.iterations == 3


def test_compile_before_build_resolves_metrics_after():
    model = Sequential([Dense(3, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy", metrics=["acc"])
    h = model.fit(X, ONEHOT, verbose=0)
    assert set(h.history) == {"loss", "acc"}


def test_predict_classes_and_proba():
    model = Sequential([Dense(3, input_shape=(3,), activation="softmax")])
    p = model.predict_proba(X)
    np.testing.assert_array_equal(model.predict_classes(X), p.argmax(-1))
    single = Sequential([Dense(1, input_shape=(3,), activation="sigmoid")])
    np.testing.assert_array_equal(
        single.predict_classes(X), (single.predict(X) > 0.5).astype("int32")
    )
    linear = Sequential([Dense(1, input_shape=(3,), kernel_initializer="ones")])
    with pytest.warns(UserWarning, match="invalid probability"):
        linear.predict_proba(X * 10)


class _Batches(Sequence):
    def __init__(self, size=4, weights=False):
        self.size, self.weights, self.ends = size, weights, 0

    def __len__(self):
        return 3

    def __getitem__(self, i):
        s = slice(i * self.size, (i + 1) * self.size)
        if self.weights:
            return X[s], Y[s], np.arange(1.0, self.size + 1)
        return X[s], Y[s]

    def on_epoch_end(self):
        self.ends += 1


def test_fit_generator_equals_fit_without_shuffling():
    a, b = _linear(), _linear()

    def gen():
        while True:
            for i in range(3):
                yield X[4 * i : 4 * i + 4], Y[4 * i : 4 * i + 4]

    ha = a.fit_generator(
        gen(), steps_per_epoch=3, epochs=2, verbose=0, validation_data=(X, Y)
    )
    hb = b.fit(
        X, Y, batch_size=4, epochs=2, verbose=0, shuffle=False, validation_data=(X, Y)
    )
    assert ha.history == pytest.approx(hb.history) or all(
        np.allclose(ha.history[k], hb.history[k], rtol=1e-12) for k in hb.history
    )
    np.testing.assert_allclose(a.get_weights()[0], b.get_weights()[0], rtol=1e-12)


class _Logged(_Batches):
    def __init__(self):
        super().__init__()
        self.log = []

    def __getitem__(self, i):
        self.log.append(i)
        return super().__getitem__(i)

    def on_epoch_end(self):
        self.log.append("end")


def test_sequence_read_as_keras_224_reads_it():
    import random

    # workers=0: in order, never on_epoch_end (Keras's iter_sequence_infinite)
    seq = _Logged()
    _linear().fit_generator(seq, epochs=3, verbose=0, workers=0, shuffle=True)
    assert seq.log == [0, 1, 2] * 3
    # workers=1: random.shuffle per pass, on_epoch_end between passes
    random.seed(7)
    orders, order = [], list(range(3))
    for _ in range(3):
        random.shuffle(order)  # one list shuffled again each pass, as Keras 2.2.4
        orders.append(list(order))
    random.seed(7)
    seq = _Logged()
    _linear().fit_generator(seq, epochs=3, verbose=0, workers=1, shuffle=True)
    assert seq.log == [*orders[0], "end", *orders[1], "end", *orders[2]]
    # validation reads go on through the Sequence from epoch to epoch
    val = _Logged()
    _linear().fit_generator(
        _Batches(),
        epochs=2,
        verbose=0,
        workers=0,
        validation_data=val,
        validation_steps=2,
    )
    assert val.log == [0, 1, 2, 0]


def test_fit_generator_with_a_sequence():
    seq = _Batches(weights=True)
    model = _linear()
    h = model.fit_generator(
        seq, epochs=2, verbose=0, workers=1, shuffle=True, validation_data=_Batches()
    )
    assert seq.ends == 1 and len(h.history["loss"]) == 2 and "val_loss" in h.history
    ordered = _linear()
    ordered.fit_generator(_Batches(weights=True), epochs=1, verbose=0, shuffle=False)
    direct = _linear()
    direct.fit(
        X,
        Y,
        sample_weight=np.tile(np.arange(1.0, 5), 3),
        batch_size=4,
        shuffle=False,
        verbose=0,
    )
    np.testing.assert_allclose(
        ordered.get_weights()[0], direct.get_weights()[0], rtol=1e-12
    )


def test_evaluate_and_predict_generator():
    model = _linear(metrics=["mae"])
    ev = model.evaluate_generator(_Batches(), workers=0)
    np.testing.assert_allclose(
        ev, model.evaluate(X, Y, batch_size=4, verbose=0), rtol=1e-12
    )
    pred = model.predict_generator(iter([X[:5], X[5:]]), steps=2)
    np.testing.assert_allclose(pred, model.predict(X), rtol=1e-12)


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda m: m.fit_generator(iter([(X, Y)])), "steps_per_epoch=None"),
        (lambda m: m.fit_generator(_Batches(), workers=2), "workers=2"),
        (
            lambda m: m.fit_generator(_Batches(), use_multiprocessing=True),
            "use_multiprocessing",
        ),
        (lambda m: m.fit_generator(_Batches(), max_queue_size=0), "max_queue_size"),
        (
            lambda m: m.fit_generator(iter([X]), steps_per_epoch=1),
            "Output of generator",
        ),
        (
            lambda m: m.fit_generator(iter([(X, Y)]), steps_per_epoch=2, verbose=0),
            "exhausted",
        ),
        (
            lambda m: m.fit_generator(_Batches(), validation_data=iter([(X, Y)])),
            "validation_steps",
        ),
        (
            lambda m: m.fit_generator(_Batches(), validation_data=(X,)),
            "validation_data",
        ),
        (lambda m: m.evaluate_generator(iter([(X, Y)])), "steps=None"),
        (lambda m: m.fit_generator(5, steps_per_epoch=1), "generator"),
    ],
)
def test_generator_errors(call, pattern):
    model = _linear()
    with pytest.raises((ValueError, TypeError), match=pattern):
        call(model)


def test_optimizer_rebind_on_the_numpy_api():
    opt = optimizers.Adam(lr=0.1, engine="reference")
    a, b = np.ones(3), np.ones(2)
    opt.apply_gradients([(np.ones(3), a)])
    with pytest.raises(ValueError, match="not the array this optimizer was built for"):
        opt.apply_gradients([(np.ones(2), b)])
    assert opt.iterations == 1
    opt.rebind()
    assert not opt.built and opt.get_weights() == []
    opt.apply_gradients([(np.ones(2), b)])
    assert opt.iterations == 2  # the counter carries on: step 2's bias correction
    fresh = optimizers.Adam(lr=0.1, engine="reference")
    c = np.ones(2)
    fresh.iterations = 1
    fresh.apply_gradients([(np.ones(2), c)])
    np.testing.assert_array_equal(b, c)


def test_trainable_weights_are_one_contiguous_span_with_bn_and_frozen_layers():
    from gradstep.kernels.flat import contiguous_span
    from gradstep.layers import BatchNormalization

    model = Sequential(
        [
            Dense(4, input_shape=(3,)),
            BatchNormalization(),
            Dense(4, trainable=False),
            Dense(2),
        ]
    )
    model.compile(optimizers.Adam(clipnorm=1.0), "mse")
    grads, params = model._trainable_pairs()
    assert len(params) == 2 + 2 + 2  # dense, gamma/beta, last dense
    assert contiguous_span(params) is not None and contiguous_span(grads) is not None
    assert [w.shape for w in model.get_weights()] == [
        (3, 4),
        (4,),
        (4,),
        (4,),
        (4,),
        (4,),
        (4, 4),
        (4,),
        (4, 2),
        (2,),
    ]
