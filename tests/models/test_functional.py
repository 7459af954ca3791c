"""The functional API: Input, layers called on tensors, Model with several inputs and
outputs, loss weights, nesting, frozen layers, get_layer, configs, errors."""

from __future__ import annotations

import numpy as np
import pytest

import gradstep
from gradstep import optimizers
from gradstep.layers import Dense, Dropout, Input, add, concatenate, multiply
from gradstep.models import Model, Sequential, model_from_json, model_from_yaml

from ._helpers import assert_grad_close, numeric_grad

RNG = np.random.default_rng(7)


def _two_by_two(dtype="float64"):
    a = Input(shape=(3,), name="a", dtype=dtype)
    b = Input(shape=(2,), name="b", dtype=dtype)
    h = Dense(4, activation="tanh", name="h", dtype=dtype)(a)
    g = Dense(4, activation="sigmoid", name="g", dtype=dtype)(b)
    o1 = Dense(2, activation="softmax", name="o1", dtype=dtype)(concatenate([h, g]))
    o2 = Dense(1, name="o2", dtype=dtype)(multiply([add([h, g]), h]))
    return Model([a, b], [o1, o2])


def _data(n=10):
    xa, xb = RNG.normal(size=(n, 3)), RNG.normal(size=(n, 2))
    y1 = np.eye(2)[RNG.integers(0, 2, n)]
    y2 = RNG.normal(size=(n, 1))
    return [xa, xb], [y1, y2]


def test_layers_in_keras_depth_order_and_names():
    model = _two_by_two()
    # Keras 2.2.4's order: by depth from the outputs (deepest first), ties in the
    # order a depth-first walk from the outputs meets them.
    kinds = [type(la).__name__ for la in model.layers]
    assert kinds == [
        "InputLayer",
        "InputLayer",
        "Dense",
        "Dense",
        "Add",
        "Concatenate",
        "Multiply",
        "Dense",
        "Dense",
    ]
    assert [la.name for la in model.layers[:4]] == ["a", "b", "h", "g"]
    assert [la.name for la in model.layers[7:]] == ["o1", "o2"]
    assert model.input_names == ["a", "b"] and model.output_names == ["o1", "o2"]
    assert model.input_shape == [(None, 3), (None, 2)]
    assert model.output_shape == [(None, 2), (None, 1)]
    assert model.get_layer("h") is model.layers[2]
    assert model.get_layer(index=0).name == "a"
    assert gradstep.Input is Input and gradstep.Model is Model


def test_loss_is_weighted_sum_of_output_losses():
    model = _two_by_two()
    model.compile("sgd", ["categorical_crossentropy", "mse"], loss_weights=[1.0, 0.25])
    assert model.metrics_names == ["loss", "o1_loss", "o2_loss"]
    x, y = _data()
    total, l1, l2 = model.evaluate(x, y, verbose=0, batch_size=100)
    p1, p2 = model.predict(x)
    assert l2 == pytest.approx(np.mean((p2 - y[1]) ** 2), rel=1e-12)
    q = np.clip(p1 / p1.sum(-1, keepdims=True), 1e-7, 1 - 1e-7)
    assert l1 == pytest.approx(np.mean(-np.sum(y[0] * np.log(q), -1)), rel=1e-12)
    assert total == pytest.approx(l1 + 0.25 * l2, rel=1e-12)
    # dict forms give the same
    model.compile(
        "sgd",
        {"o1": "categorical_crossentropy", "o2": "mse"},
        loss_weights={"o2": 0.25},
    )
    again = model.evaluate({"a": x[0], "b": x[1]}, {"o1": y[0], "o2": y[1]}, verbose=0)
    assert again[0] == pytest.approx(total, rel=1e-12)


def test_metrics_names_per_output_and_weighted():
    model = _two_by_two()
    model.compile(
        "sgd",
        ["categorical_crossentropy", "mse"],
        metrics={"o1": "acc"},
        weighted_metrics=["mae"],
    )
    assert model.metrics_names == [
        "loss",
        "o1_loss",
        "o2_loss",
        "o1_acc",
        "o1_weighted_mean_absolute_error",
        "o2_weighted_mean_absolute_error",
    ]
    x, y = _data()
    h = model.fit(x, y, epochs=1, verbose=0, sample_weight=[np.ones(10), None])
    assert set(h.history) == set(model.metrics_names)


def test_whole_gradient_matches_finite_differences():
    model = _two_by_two()
    model.compile("sgd", ["categorical_crossentropy", "mse"], loss_weights=[0.7, 1.3])
    x, y = _data(6)
    sw = [RNG.uniform(0, 2, 6), np.array([1.0, 0, 2, 1, 0, 3])]
    model._compute_gradients(x, y, sw)
    grads = [g.copy() for g in model._train_grads]
    _, params = model._trainable_pairs()

    def f():
        return model._batch_loss(x, y, sw)

    for w, g in zip(params, grads):
        assert_grad_close(g, numeric_grad(f, w))


def test_output_used_inside_the_graph_gets_both_gradients():
    a = Input(shape=(3,), dtype="float64")
    h = Dense(2, activation="softmax", dtype="float64")(a)
    o = Dense(1, dtype="float64")(h)
    model = Model(a, [h, o])
    model.compile("sgd", ["categorical_crossentropy", "mse"])
    x = [RNG.normal(size=(5, 3))]
    y = [np.eye(2)[RNG.integers(0, 2, 5)], RNG.normal(size=(5, 1))]
    model._compute_gradients(x, y, [None, None])
    grads = [g.copy() for g in model._train_grads]
    _, params = model._trainable_pairs()
    for w, g in zip(params, grads):
        assert_grad_close(
            g, numeric_grad(lambda: model._batch_loss(x, y, [None, None]), w)
        )


def test_frozen_layer_is_not_trained_and_not_given_to_the_optimizer():
    model = _two_by_two()
    model.get_layer("h").trainable = False
    model.compile(optimizers.Adam(lr=0.1), ["categorical_crossentropy", "mse"])
    before = model.get_layer("h").get_weights()
    other = model.get_layer("g").get_weights()
    x, y = _data()
    model.fit(x, y, epochs=2, verbose=0)
    after = model.get_layer("h").get_weights()
    assert all(np.array_equal(u, v) for u, v in zip(before, after))
    assert not np.array_equal(other[0], model.get_layer("g").kernel)
    n_train = sum(w.size for w in model.trainable_weights)
    assert n_train == model.count_params() - sum(w.size for w in before)
    assert len(model.optimizer.get_weights()) == 1 + 3 * len(model.trainable_weights)


def test_nested_models_train_and_share_weights():
    inner = Sequential([Dense(3, input_shape=(3,), activation="relu", dtype="float64")])
    x = Input(shape=(3,), dtype="float64")
    outer = Model(x, Dense(1, dtype="float64")(inner(x)))
    outer.compile("sgd", "mse")
    data, target = RNG.normal(size=(8, 3)), RNG.normal(size=(8, 1))
    outer.fit(data, target, epochs=2, verbose=0)
    assert np.array_equal(inner.get_weights()[0], outer.get_weights()[0])
    inner.compile("sgd", "mse")
    inner.fit(data, RNG.normal(size=(8, 3)), verbose=0)
    assert np.array_equal(inner.get_weights()[0], outer.get_weights()[0])
    outer.fit(data, target, verbose=0)  # the outer optimizer stays bound
    inner.trainable = False
    outer.compile("sgd", "mse")
    frozen = inner.get_weights()
    outer.fit(data, target, verbose=0)
    assert all(np.array_equal(u, v) for u, v in zip(frozen, inner.get_weights()))


def test_one_optimizer_compiled_into_a_second_model_carries_its_counter():
    opt = optimizers.Adam(lr=0.01)
    first = _two_by_two()
    first.compile(opt, ["categorical_crossentropy", "mse"])
    x, y = _data()
    first.fit(x, y, epochs=1, batch_size=5, verbose=0)
    assert opt.iterations == 2
    second = Sequential([Dense(2, input_shape=(3,))])
    second.compile(opt, "mse")
    second.fit(x[0], y[0], epochs=1, batch_size=5, verbose=0)
    assert opt.iterations == 4
    assert len(opt.get_weights()) == 1 + 3 * 2
    before = first.get_weights()
    with pytest.raises(ValueError, match="compiled into another model"):
        first.fit(x, y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="compiled into another model"):
        first.train_on_batch(x, y)
    assert all(np.array_equal(u, v) for u, v in zip(before, first.get_weights()))
    first.compile(opt, ["categorical_crossentropy", "mse"])
    first.fit(x, y, epochs=1, batch_size=10, verbose=0)
    assert opt.iterations == 5


def test_config_json_yaml_round_trip():
    model = _two_by_two()
    x, _ = _data()
    for text, load in (
        (model.to_json(), model_from_json),
        (model.to_yaml(), model_from_yaml),
    ):
        again = load(text)
        assert [la.name for la in again.layers] == [la.name for la in model.layers]
        again.set_weights(model.get_weights())
        for p, q in zip(model.predict(x), again.predict(x)):
            np.testing.assert_array_equal(p, q)


def test_save_weights_and_load_by_name(tmp_path):
    model = _two_by_two()
    path = tmp_path / "w.npz"
    model.save_weights(path)
    other = model_from_json(model.to_json())
    other.load_weights(path)
    for u, v in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(u, v)
    a = Input(shape=(3,), dtype="float64")
    partial = Model(
        a, Dense(7, name="h2", dtype="float64")(Dense(4, name="h", dtype="float64")(a))
    )
    partial.load_weights(path, by_name=True)
    np.testing.assert_array_equal(
        partial.get_layer("h").kernel, model.get_layer("h").kernel
    )
    b = Input(shape=(3,), dtype="float64")
    wrong = Model(b, Dense(5, name="h", dtype="float64")(b))
    keep = wrong.get_weights()
    with pytest.raises(ValueError, match='named "h"'):
        wrong.load_weights(path, by_name=True)
    assert all(np.array_equal(u, v) for u, v in zip(keep, wrong.get_weights()))
    with pytest.warns(UserWarning, match="Skipping"):
        wrong.load_weights(path, by_name=True, skip_mismatch=True)


def test_dropout_uses_the_model_generator():
    a = Input(shape=(4,))
    model = Model(a, Dense(1)(Dropout(0.5)(a)), seed=3)
    assert model.layers[1].rng is model._rngs.train


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (lambda: Model(Dense(2), None), "inputs= and outputs="),
        (lambda: Model([np.ones(3)], [np.ones(3)]), "must be tensors"),
        (lambda: Dense(2)(np.ones((2, 3))), "called on ndarray"),
    ],
)
def test_construction_errors(make, pattern):
    with pytest.raises((TypeError, ValueError), match=pattern):
        make()


def test_graph_errors():
    a, b = Input(shape=(3,)), Input(shape=(3,))
    out = add([a, b])
    with pytest.raises(ValueError, match="Graph disconnected"):
        Model(a, out)
    h = Dense(3)(a)
    with pytest.raises(ValueError, match="must come from"):
        Model(h, Dense(1)(h))
    shared = Dense(3)
    shared(a)
    with pytest.raises(ValueError, match="already called"):
        shared(b)
    with pytest.raises(ValueError, match="list of inputs"):
        add(a)
    with pytest.raises(ValueError, match="could not be merged"):
        add([a, Input(shape=(4,))])
    with pytest.raises(ValueError, match="No such layer"):
        Model(a, h).get_layer("nope")
    with pytest.raises(ValueError, match="index"):
        Model(a, h).get_layer(index=5)


def test_compile_and_data_errors_change_nothing():
    model = _two_by_two()
    with pytest.raises(ValueError, match="Unknown entry in loss dictionary"):
        model.compile("sgd", {"nope": "mse"})
    with pytest.raises(ValueError, match="one entry per model output"):
        model.compile("sgd", ["mse"])
    with pytest.raises(ValueError, match="loss_weights"):
        model.compile("sgd", "mse", loss_weights={"o1": "x"})
    with pytest.raises(ValueError, match="sample_weight_mode"):
        model.compile("sgd", "mse", sample_weight_mode="temporal")
    model.compile("sgd", ["categorical_crossentropy", "mse"])
    before = model.get_weights()
    x, y = _data()
    with pytest.raises(ValueError, match="Expected to see 2 array"):
        model.fit([x[0]], y, verbose=0)
    with pytest.raises(ValueError, match='No data provided for "b"'):
        model.fit({"a": x[0]}, y, verbose=0)
    with pytest.raises(ValueError, match="sample_weight"):
        model.fit(x, y, sample_weight=[np.ones(3), None], verbose=0)
    with pytest.raises(ValueError, match="1 elements"):
        model.fit(x, y, sample_weight=[np.ones(10)], verbose=0)
    with pytest.raises(ValueError, match="same number of samples"):
        model.fit([x[0], x[1][:5]], y, verbose=0)
    assert all(np.array_equal(u, v) for u, v in zip(before, model.get_weights()))


def test_output_without_loss_takes_no_target():
    model = _two_by_two()
    model.compile("sgd", {"o2": "mse"})
    x, y = _data()
    assert model.metrics_names == ["loss", "o2_loss"]
    total, l2 = model.evaluate(x, y[1], verbose=0)
    assert total == pytest.approx(l2)
    # o1's own weights affect no loss: refused as Keras 2.2.4 (no gradient) refuses
    before = model.get_weights()
    with pytest.raises(ValueError, match="o1 do not affect any loss"):
        model.fit(x, [y[1]], verbose=0)
    with pytest.raises(ValueError, match="do not affect any loss"):
        model.train_on_batch(x, [y[1]])
    assert all(np.array_equal(u, v) for u, v in zip(before, model.get_weights()))
    model.get_layer("o1").trainable = False
    model.compile("sgd", {"o2": "mse"})
    model.fit(x, [y[1]], verbose=0)


def _saved_functional(tmp_path):
    from gradstep.layers import BatchNormalization

    a, b = Input(shape=(3,)), Input(shape=(2,))
    inner = Sequential(
        [Dense(4, input_shape=(3,), activation="relu"), BatchNormalization()]
    )
    out = Dense(2, activation="softmax")(concatenate([inner(a), Dropout(0.3)(b)]))
    model = Model([a, b], out)
    model.compile("adam", "categorical_crossentropy", metrics=["acc"])
    x = [RNG.normal(size=(20, 3)), RNG.normal(size=(20, 2))]
    y = np.eye(2)[RNG.integers(0, 2, 20)]
    model.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / "m.npz"
    model.save(path)
    return model, path, x, y


def test_functional_save_load_continues_exactly(tmp_path):
    from gradstep.models import load_model

    model, path, x, y = _saved_functional(tmp_path)
    again = load_model(path)
    assert type(again) is Model
    assert [la.name for la in again.layers] == [la.name for la in model.layers]
    np.testing.assert_array_equal(model.predict(x), again.predict(x))
    h1 = model.fit(x, y, epochs=1, verbose=0).history
    h2 = again.fit(x, y, epochs=1, verbose=0).history
    assert h1 == h2
    for u, v in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(u, v)


def test_functional_file_asking_for_other_weights_is_refused(tmp_path):
    import json

    from gradstep.models import load_model

    _, path, _, _ = _saved_functional(tmp_path)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    header = json.loads(str(arrays["__gradstep__"]))
    layers = header["model_config"]["config"]["layers"]
    dense = next(e for e in layers if e["class_name"] == "Dense")
    dense["config"]["units"] = 10**7
    arrays["__gradstep__"] = np.array(json.dumps(header))
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    with pytest.raises(ValueError, match="asks for weights of shapes"):
        load_model(bad)
    nested = next(e for e in layers if e["class_name"] == "Sequential")
    dense["config"]["units"] = 2
    nested["config"]["layers"][0]["config"]["units"] = 10**7
    arrays["__gradstep__"] = np.array(json.dumps(header))
    np.savez(bad, **arrays)
    with pytest.raises(ValueError, match="asks for weights of shapes"):
        load_model(bad)


def test_saving_a_multi_output_model_needs_include_optimizer_false(tmp_path):
    from gradstep.models import load_model

    model = _two_by_two()
    model.compile("sgd", ["categorical_crossentropy", "mse"])
    with pytest.raises(ValueError, match="include_optimizer=False"):
        model.save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()
    model.save(tmp_path / "m.npz", include_optimizer=False)
    again = load_model(tmp_path / "m.npz")
    x, _ = _data()
    for p, q in zip(model.predict(x), again.predict(x)):
        np.testing.assert_array_equal(p, q)


def test_summary_of_a_branched_model_has_connections():
    lines = []
    _two_by_two().summary(print_fn=lines.append)
    assert "Connected to" in lines[1] and len(lines[0]) == 98
    assert any("h[0][0]" in line for line in lines)


def _nested(seed=0):
    from gradstep.models import set_random_seed

    set_random_seed(seed)
    a, b = Input(shape=(4,), dtype="float64"), Input(shape=(4,), dtype="float64")
    inner = Sequential(
        [
            Dense(4, input_shape=(4,), activation="tanh", dtype="float64"),
            Dense(4, dtype="float64"),
        ]
    )
    out = Dense(3, activation="softmax", dtype="float64")(add([inner(a), b]))
    return Model([a, b], out), inner


def test_nested_model_gradient_matches_finite_differences():
    model, _ = _nested()
    model.compile("sgd", "categorical_crossentropy")
    x = [RNG.normal(size=(6, 4)), RNG.normal(size=(6, 4))]
    y = [np.eye(3)[RNG.integers(0, 3, 6)]]
    model._compute_gradients(x, y, [None])
    grads = [g.copy() for g in model._train_grads]
    _, params = model._trainable_pairs()
    for w, g in zip(params, grads):
        assert_grad_close(g, numeric_grad(lambda: model._batch_loss(x, y, [None]), w))


def test_reading_an_inner_model_during_training_changes_nothing():
    from gradstep import callbacks

    x = [RNG.normal(size=(12, 4)), RNG.normal(size=(12, 4))]
    y = np.eye(3)[RNG.integers(0, 3, 12)]
    results = []
    for peek in (False, True):
        model, inner = _nested(seed=4)
        model.compile(
            optimizers.Adam(lr=0.05, engine="reference"), "categorical_crossentropy"
        )
        hook = callbacks.LambdaCallback(
            on_batch_end=lambda batch, logs, inner=inner, peek=peek: (
                inner.get_weights() if peek else None
            )
        )
        model.fit(
            x, y, batch_size=4, epochs=2, shuffle=False, verbose=0, callbacks=[hook]
        )
        results.append(model.get_weights())
    for u, v in zip(*results):
        np.testing.assert_array_equal(u, v)


def test_sequential_nesting_and_input_layer():
    from gradstep.layers import InputLayer

    inner = Sequential([Dense(3, input_shape=(4,), activation="relu", dtype="float64")])
    outer = Sequential([inner, Dense(2, dtype="float64")])
    assert outer.count_params() == 4 * 3 + 3 + 3 * 2 + 2
    outer.compile("sgd", "mse")
    x, y = RNG.normal(size=(6, 4)), RNG.normal(size=(6, 2))
    outer.fit(x, y, verbose=0)
    again = model_from_json(outer.to_json())
    again.set_weights(outer.get_weights())
    np.testing.assert_array_equal(again.predict(x), outer.predict(x))
    with_input = Sequential()
    with_input.add(InputLayer(input_shape=(4,)))
    with_input.add(Dense(2))
    assert with_input.built and with_input.input_shape == (None, 4)
    a = Input(shape=(4,))
    functional = Model(a, Dense(2)(a))
    stacked = Sequential([functional, Dense(1)])
    assert stacked.output_shape == (None, 1)
    stacked.compile("sgd", "mse")
    stacked.fit(x, y[:, :1], verbose=0)


def test_automatic_names_are_keras_snake_case():
    from gradstep.layers import ELU, LeakyReLU, PReLU, ThresholdedReLU
    from gradstep.layers._base import _snake

    assert [_snake(c.__name__) for c in (LeakyReLU, PReLU, ELU, ThresholdedReLU)] == [
        "leaky_re_lu",
        "p_re_lu",
        "elu",
        "thresholded_re_lu",
    ]
    assert LeakyReLU().name.startswith("leaky_re_lu_")
    assert Input(shape=(2,)).node.layer.name.startswith("input_")


def _config():
    return _two_by_two().get_config()


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        (lambda c: c["layers"].append(c["layers"][2]), "twice"),
        (
            lambda c: c["layers"][2].update(inbound_nodes=[[["nope", 0, 0, {}]]]),
            "unknown layer",
        ),
        (
            lambda c: c["layers"][2].update(inbound_nodes=[[["a", 0, 5, {}]]]),
            "tensor index",
        ),
        (lambda c: c["layers"][2].update(inbound_nodes=[[7]]), "tensor reference"),
        (lambda c: c["layers"][2].update(inbound_nodes=[[], []]), "at most one"),
        (lambda c: c.update(output_layers=[]), "output_layers"),
        (lambda c: c.update(layers="x"), "'layers' list"),
        (
            lambda c: c["layers"][2].update(inbound_nodes=[[["o1", 0, 0, {}]]]),
            "resolved",
        ),
    ],
)
def test_bad_functional_configs_raise(change, pattern):
    from gradstep.models import model_from_config

    config = _config()
    change(config)
    with pytest.raises(ValueError, match=pattern):
        model_from_config({"class_name": "Model", "config": config})


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        (
            lambda c: c["layers"][2].update(inbound_nodes=[[["nope", 0, 0, {}]]]),
            "unknown",
        ),
        (lambda c: c["layers"][2].update(inbound_nodes=[[["o1", 0, 0, {}]]]), "cycle"),
        (lambda c: c["layers"][2].update(inbound_nodes=[]), "no input"),
        (lambda c: c.update(output_layers=[]), "output_layers"),
    ],
)
def test_bad_configs_for_the_shape_check_raise(change, pattern):
    config = _config()
    change(config)
    with pytest.raises(ValueError, match=pattern):
        Model.weight_shapes_of(config)


def test_shape_check_matches_the_built_model():
    model = _two_by_two()
    assert Model.weight_shapes_of(model.get_config()) == [
        w.shape for w in model.get_weights()
    ]
