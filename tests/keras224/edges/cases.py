"""Ordinary Keras 2.2 Dense-model code whose behaviour gradstep once got wrong, as
code shared by both sides: ``CASES[name](k)`` runs one case with the library ``k`` (the
``keras`` package under ``tools/keras224``, or ``gradstep``) and returns its numbers as
JSON-ready lists. ``generate.py`` runs them under real Keras 2.2.4 (float64) and writes
``<name>.json``; ``tests/models/test_keras_code_edges.py`` runs them with gradstep and
compares. Runs on Python 3.8 (the Keras side) and 3.10+.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def _data(seed: int, n: int = 30) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(seed)
    return rng.randn(n, 4), np.eye(3)[rng.randint(0, 3, n)]


def _init(model: Any, seed: int) -> None:
    """Every layer's weights drawn uniform in [-0.5, 0.5), layer by layer."""
    rng = np.random.RandomState(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            layer.set_weights([rng.uniform(-0.5, 0.5, w.shape) for w in weights])


def _mlp(k: Any, optimizer: Any) -> Any:
    model = k.models.Sequential()
    model.add(k.layers.Dense(5, input_shape=(4,), activation="tanh", name="d1"))
    model.add(k.layers.Dense(4, activation="tanh", name="d2"))
    model.add(k.layers.Dense(3, activation="softmax", name="out"))
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["acc"])
    _init(model, 7)
    return model


def _history(history: Any) -> dict[str, list[float]]:
    return {key: [float(v) for v in values] for key, values in history.history.items()}


def _weights(model: Any) -> list[list[Any]]:
    return [w.tolist() for w in model.get_weights()]


def frozen_after_compile(k: Any) -> dict[str, Any]:
    """``layer.trainable = False`` after ``compile``, without compiling again: Keras
    2.2.4 keeps training the weights collected at compile (and warns of the
    discrepancy), before the first fit and after one; compiled again, it stops."""
    x, y = _data(1)
    model = _mlp(k, k.optimizers.Adam(lr=0.02))
    model.layers[0].trainable = False  # before any fit
    first = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    after_first = _weights(model)
    model.layers[1].trainable = False  # after a fit
    second = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    after_second = _weights(model)
    model.compile(k.optimizers.SGD(lr=0.1), "categorical_crossentropy")
    third = model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    return {
        "histories": [_history(h) for h in (first, second, third)],
        "weights": [after_first, after_second, _weights(model)],
    }


def frozen_after_compile_functional(k: Any) -> dict[str, Any]:
    """The same with the functional API and ``train_on_batch``: the first layer of
    one branch frozen after compile still trains."""
    x, y = _data(2)
    a = k.layers.Input(shape=(4,), name="a")
    b = k.layers.Input(shape=(4,), name="b")
    ha = k.layers.Dense(3, activation="tanh", name="ha")(a)
    hb = k.layers.Dense(3, activation="relu", name="hb")(b)
    h = k.layers.concatenate([ha, hb], name="cat")
    out = k.layers.Dense(3, activation="softmax", name="out")(h)
    model = k.models.Model([a, b], out)
    model.compile(k.optimizers.RMSprop(lr=0.01), "categorical_crossentropy")
    _init(model, 8)
    model.get_layer("ha").trainable = False
    model.get_layer("hb").trainable = False
    losses = [
        float(np.asarray(model.train_on_batch([x, x[::-1]], y)).reshape(-1)[0])
        for _ in range(4)
    ]
    return {"losses": losses, "weights": _weights(model)}


def gan_layers_frozen(k: Any) -> dict[str, Any]:
    """The GAN pattern of Keras 2.2's examples: the discriminator compiled, then its
    layers frozen and the combined model compiled; ``discriminator.train_on_batch``
    still trains the discriminator (collected at its compile), the combined model
    only the generator."""
    rng = np.random.RandomState(60)
    real = rng.randn(16, 3) + 1.0
    gen = k.models.Sequential(
        [k.layers.Dense(4, input_shape=(2,), activation="tanh"), k.layers.Dense(3)]
    )
    disc = k.models.Sequential(
        [
            k.layers.Dense(4, input_shape=(3,), activation="tanh"),
            k.layers.Dense(1, activation="sigmoid"),
        ]
    )
    disc.compile(k.optimizers.SGD(lr=0.1), "binary_crossentropy")
    for layer in disc.layers:
        layer.trainable = False
    combined = k.models.Sequential([gen, disc])
    combined.compile(k.optimizers.SGD(lr=0.1), "binary_crossentropy")
    _init(gen, 61)
    _init(disc, 62)
    losses = []
    for _ in range(3):
        fake = gen.predict(rng.randn(16, 2))
        both, labels = np.vstack([real, fake]), np.r_[np.ones(16), np.zeros(16)]
        losses.append(float(np.ravel(disc.train_on_batch(both, labels))[0]))
        noise = rng.randn(16, 2)
        losses.append(float(np.ravel(combined.train_on_batch(noise, np.ones(16)))[0]))
    return {
        "losses": losses,
        "generator": _weights(gen),
        "discriminator": _weights(disc),
    }


def intermediate_output(k: Any) -> dict[str, Any]:
    """Keras 2.2's FAQ, "How can I obtain the output of an intermediate layer?":
    ``Model(inputs=model.input, outputs=model.get_layer(name).output)`` of a trained
    Sequential model, and of a functional one; the new model shares the layers (trained
    through it, the Sequential sees the new weights)."""
    x, y = _data(3)
    model = _mlp(k, "sgd")
    model.fit(x, y, batch_size=10, epochs=1, shuffle=False, verbose=0)
    features = k.models.Model(inputs=model.input, outputs=model.get_layer("d2").output)
    head = k.models.Model(model.inputs, model.outputs)
    head.compile(k.optimizers.Adam(lr=0.01), "categorical_crossentropy")
    history = head.fit(x, y, batch_size=10, epochs=2, shuffle=False, verbose=0)
    a = k.layers.Input(shape=(4,))
    hidden = k.layers.Dense(5, activation="relu", name="fh")(a)
    out = k.layers.Dense(3, activation="softmax", name="fo")(hidden)
    functional = k.models.Model(a, out)
    _init(functional, 9)
    both = k.models.Model(
        functional.input, [functional.get_layer("fh").output, functional.output]
    )
    config = features.get_config()
    return {
        "features": features.predict(x[:5]).tolist(),
        "sequential": model.predict(x[:5]).tolist(),
        "history": _history(history),
        "both": [p.tolist() for p in both.predict(x[:3])],
        "config_layers": [[lay["class_name"], lay["name"]] for lay in config["layers"]],
        "config_ends": [config["input_layers"], config["output_layers"]],
        "shapes": [list(t._keras_shape) for t in model.inputs + model.outputs],
    }


def _nested(k: Any) -> Any:
    inner = k.models.Sequential(
        [
            k.layers.Dense(5, input_shape=(4,), name="i1"),
            k.layers.BatchNormalization(name="ibn"),
            k.layers.Activation("relu", name="irelu"),
            k.layers.Dense(4, activation="tanh", name="i2"),
        ],
        name="inner",
    )
    model = k.models.Sequential(
        [inner, k.layers.Dense(3, activation="softmax", name="top")], name="outer"
    )
    model.compile(k.optimizers.Adam(lr=0.01), "categorical_crossentropy", ["acc"])
    rng = np.random.RandomState(4)
    for layer in inner.layers + [model.layers[1]]:
        weights = [rng.uniform(-0.5, 0.5, w.shape) for w in layer.get_weights()]
        if layer.name == "ibn":
            weights[3] = np.abs(weights[3]) + 0.3  # a variance
        if weights:
            layer.set_weights(weights)
    return model


def nested_batchnorm_h5(k: Any) -> dict[str, Any]:
    """A Sequential model nested in another, with a BatchNormalization: Keras 2.2.4
    writes the nested model's weights trainable first (moving statistics last) and
    reads them back by position. Keras's ``nested_batchnorm.h5`` (written here by
    ``generate.py``) loaded and trained on; the numbers are Keras's continuing."""
    x, y = _data(5)
    path = os.path.join(HERE, "nested_batchnorm.h5")
    if k.__name__ == "keras":
        model = _nested(k)
        model.fit(x, y, batch_size=10, epochs=1, shuffle=False, verbose=0)
        model.save(path)
    model = k.models.load_model(path)
    predicted = model.predict(x[:4]).tolist()
    history = model.fit(x, y, batch_size=10, epochs=2, shuffle=False, verbose=0)
    return {
        "predicted": predicted,
        "history": _history(history),
        "weights": [w.tolist() for layer in model.layers for w in layer.get_weights()],
    }


CASES: dict[str, Callable[[Any], dict[str, Any]]] = {
    "frozen_after_compile": frozen_after_compile,
    "frozen_after_compile_functional": frozen_after_compile_functional,
    "gan_layers_frozen": gan_layers_frozen,
    "intermediate_output": intermediate_output,
    "nested_batchnorm_h5": nested_batchnorm_h5,
}
