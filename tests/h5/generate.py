"""Writes ``fixtures/``: Keras 2.2.4 HDF5 files and Keras's own continuation of each.

Run under the Keras 2.2.4 runner (not run by CI; the outputs are committed)::

    tools/keras224 tests/h5/generate.py            # float64 files
    tools/keras224 --float32 tests/h5/generate.py  # float32 files

For every optimizer configuration: a Sequential Dense model (seeded initial weights)
trained ``EPOCHS_BEFORE`` epochs on ``keras_side.data()`` and saved with
``model.save`` as ``<name>_<floatx>.h5``; then ``keras.models.load_model`` and
``EPOCHS_AFTER`` more epochs (``shuffle=False``), whose History and weights go to
``<name>_<floatx>.json``. Plus a weights-only file, a file without optimizer, and a
Lambda-layer file (for the refusal test), and two-input/two-output functional models
(``functional_*``, with loss_weights; their JSON holds their data), and
Sequential variants with BatchNormalization, a frozen layer, constraints. Theano backend:
weight names have no ``:0``.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
import keras_side  # noqa: E402
from keras import backend as K  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")
EPOCHS_BEFORE = 2
EPOCHS_AFTER = 2

OPTIMIZERS = {
    "sgd": ("SGD", {"lr": 0.1}),
    "sgd_momentum": ("SGD", {"lr": 0.1, "momentum": 0.9}),
    "sgd_nesterov_decay": (
        "SGD",
        {"lr": 0.1, "momentum": 0.8, "nesterov": True, "decay": 0.05},
    ),
    "sgd_clipnorm": ("SGD", {"lr": 0.2, "momentum": 0.5, "clipnorm": 0.3}),
    "sgd_clipvalue": ("SGD", {"lr": 0.2, "clipvalue": 0.05}),
    "rmsprop": ("RMSprop", {"lr": 0.01}),
    "rmsprop_decay_clipnorm": ("RMSprop", {"lr": 0.01, "decay": 0.1, "clipnorm": 0.4}),
    "adagrad": ("Adagrad", {"lr": 0.05}),
    "adagrad_decay_clipvalue": (
        "Adagrad",
        {"lr": 0.05, "decay": 0.1, "clipvalue": 0.05},
    ),
    "adadelta": ("Adadelta", {"lr": 1.0}),
    "adadelta_decay_clipnorm": ("Adadelta", {"lr": 1.0, "decay": 0.1, "clipnorm": 0.3}),
    "adam": ("Adam", {"lr": 0.01}),
    "adam_decay_clipvalue": ("Adam", {"lr": 0.01, "decay": 0.05, "clipvalue": 0.05}),
    "amsgrad": ("Adam", {"lr": 0.01, "amsgrad": True}),
    "amsgrad_clipnorm": ("Adam", {"lr": 0.01, "amsgrad": True, "clipnorm": 0.3}),
    "adamax": ("Adamax", {"lr": 0.01}),
    "adamax_decay_clipvalue": (
        "Adamax",
        {"lr": 0.01, "decay": 0.05, "clipvalue": 0.05},
    ),
    "nadam": ("Nadam", {"lr": 0.01}),
    "nadam_clipnorm": ("Nadam", {"lr": 0.01, "clipnorm": 0.3}),
}
FLOAT32 = ("sgd_nesterov_decay", "rmsprop_decay_clipnorm", "adam", "amsgrad", "nadam")


def model(extra=True):
    """Dense(5, tanh) -> [Dropout(0) -> Activation(linear)] -> Dense(3, softmax)."""
    m = keras.models.Sequential()
    m.add(keras.layers.Dense(5, activation="tanh", input_shape=(4,), name="dense_1"))
    if extra:
        m.add(keras.layers.Dropout(0.0, name="dropout_1"))
        m.add(keras.layers.Activation("linear", name="activation_1"))
    m.add(keras.layers.Dense(3, activation="softmax", name="dense_2"))
    rng = np.random.RandomState(11)
    m.set_weights([rng.uniform(-0.6, 0.6, size=w.shape) for w in m.get_weights()])
    return m


def variant_model(variant):
    """Sequential models with what else a .h5 file carries: BatchNormalization
    (moving statistics are non-trainable weights), a frozen layer (its weights are not
    in the optimizer state), constraints (in the layer configs)."""
    L, C = keras.layers, keras.constraints
    m = keras.models.Sequential()
    first = {"input_shape": (4,), "name": "dense_1"}
    if variant == "batchnorm":
        m.add(L.Dense(5, **first))
        m.add(L.BatchNormalization(momentum=0.9, name="bn_1"))
        m.add(L.Activation("tanh", name="activation_1"))
    elif variant == "frozen":
        m.add(L.Dense(5, activation="tanh", trainable=False, **first))
        m.add(L.Dense(4, activation="tanh", name="dense_3"))
    else:
        m.add(
            L.Dense(
                5,
                activation="tanh",
                kernel_constraint=C.max_norm(0.9),
                bias_constraint=C.non_neg(),
                **first,
            )
        )
    m.add(
        L.Dense(
            3,
            activation="softmax",
            name="dense_2",
            kernel_constraint=C.unit_norm() if variant == "constraints" else None,
        )
    )
    rng = np.random.RandomState(19)
    values = []
    for w in [w for layer in m.layers for w in layer.weights]:  # get_weights order
        low = 0.5 if "moving_variance" in str(w.name) else -0.6
        high = 1.5 if low > 0 else 0.6
        values.append(rng.uniform(low, high, size=K.int_shape(w)))
    m.set_weights(values)
    return m


VARIANTS = {
    "batchnorm_adam": ("batchnorm", "Adam", {"lr": 0.01}),
    "frozen_rmsprop_decay": ("frozen", "RMSprop", {"lr": 0.01, "decay": 0.1}),
    "constraints_sgd_nesterov": (
        "constraints",
        "SGD",
        {"lr": 0.3, "momentum": 0.9, "nesterov": True},
    ),
}


def _dump(path, value):
    with open(path + ".tmp", "w") as handle:
        json.dump(value, handle, sort_keys=True)
    os.replace(path + ".tmp", path)


def optimizer_file(name, floatx):
    variant = None
    if name in VARIANTS:
        variant, cls, config = VARIANTS[name]
        m = variant_model(variant)
    else:
        cls, config = OPTIMIZERS[name]
        m = model()
    m.compile(
        optimizer=getattr(keras.optimizers, cls)(**config),
        loss="categorical_crossentropy",
        metrics=["acc"],
    )
    x, y = keras_side.data(floatx)
    before = m.fit(
        x,
        y,
        batch_size=keras_side.BATCH,
        epochs=EPOCHS_BEFORE,
        shuffle=False,
        verbose=0,
    )
    path = os.path.join(OUT, f"{name}_{floatx}.h5")
    m.save(path)
    after = keras_side.continue_file(path, EPOCHS_AFTER)
    after["history_before"] = keras_side.numbers(before, m)["history"]
    after.update(optimizer=cls, config=config, floatx=floatx, epochs=EPOCHS_AFTER)
    if variant is not None:
        after["variant"] = variant
    _dump(path[:-3] + ".json", after)
    print(path, after["history"]["loss"])


def other_files(floatx):
    m = model()
    m.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["acc"])
    m.save_weights(os.path.join(OUT, f"weights_{floatx}.h5"))
    _dump(
        os.path.join(OUT, f"weights_{floatx}.json"),
        {"weights": [w.astype("float64").tolist() for w in m.get_weights()]},
    )
    m.save(os.path.join(OUT, f"no_optimizer_{floatx}.h5"), include_optimizer=False)
    lam = keras.models.Sequential()
    lam.add(keras.layers.Dense(2, input_shape=(4,), name="dense_1"))
    lam.add(keras.layers.Lambda(lambda t: t * 2.0, name="lambda_1"))
    lam.compile(optimizer="sgd", loss="mse")
    lam.save(os.path.join(OUT, f"lambda_{floatx}.h5"))


def functional_data():
    """Two inputs, two outputs: (xa, xb), (one-hot classes, regression targets)."""
    rng = np.random.RandomState(13)
    xa, xb = rng.normal(size=(32, 4)), rng.normal(size=(32, 2))
    cls, reg = np.eye(3)[rng.randint(0, 3, size=32)], rng.normal(size=(32, 1))
    return {"xa": xa, "xb": xb, "cls": cls, "reg": reg}


def functional_model():
    """in_a -> da; in_b -> db; concatenate -> cls (softmax); db -> reg (linear)."""
    L = keras.layers
    a, b = L.Input(shape=(4,), name="in_a"), L.Input(shape=(2,), name="in_b")
    ha = L.Dense(5, activation="tanh", name="da")(a)
    hb = L.Dense(3, activation="relu", name="db")(b)
    h = L.concatenate([ha, hb], name="cat")
    cls = L.Dense(3, activation="softmax", name="cls")(h)
    reg = L.Dense(1, name="reg")(hb)
    m = keras.models.Model(inputs=[a, b], outputs=[cls, reg])
    rng = np.random.RandomState(17)
    m.set_weights([rng.uniform(-0.6, 0.6, size=w.shape) for w in m.get_weights()])
    return m


def functional_file(name, optimizer):
    """A two-input/two-output model with loss_weights, saved and continued."""
    m = functional_model()
    m.compile(
        optimizer=optimizer,
        loss={"cls": "categorical_crossentropy", "reg": "mse"},
        loss_weights={"cls": 1.0, "reg": 0.3},
        metrics={"cls": ["acc"]},
    )
    d = functional_data()
    x, y = [d["xa"], d["xb"]], {"cls": d["cls"], "reg": d["reg"]}
    kw = {"batch_size": keras_side.BATCH, "shuffle": False, "verbose": 0}
    m.fit(x, y, epochs=EPOCHS_BEFORE, **kw)
    path = os.path.join(OUT, f"{name}_float64.h5")
    m.save(path)
    again = keras.models.load_model(path)
    history = again.fit(x, y, epochs=EPOCHS_AFTER, **kw)
    result = keras_side.numbers(history, again)
    result.update(
        optimizer=type(again.optimizer).__name__,
        floatx="float64",
        epochs=EPOCHS_AFTER,
        data={k: v.tolist() for k, v in d.items()},
    )
    _dump(path[:-3] + ".json", result)
    print(path, result["history"]["loss"])


def main():
    floatx = K.floatx()
    os.makedirs(OUT, exist_ok=True)
    names = OPTIMIZERS if floatx == "float64" else FLOAT32
    for name in names:
        optimizer_file(name, floatx)
    if floatx == "float64":
        for name in VARIANTS:
            optimizer_file(name, floatx)
        other_files(floatx)
        functional_file("functional_sgd", keras.optimizers.SGD(lr=0.05, momentum=0.9))
        functional_file("functional_nadam", keras.optimizers.Nadam(lr=0.01))


if __name__ == "__main__":
    main()
