"""The Keras 2.2.4 training scenarios of issue 18, as code shared by both sides.

``build(k, config)`` builds and compiles a scenario's model with the library ``k``
(the ``keras`` package under ``tools/keras224``, or ``gradstep``): the very same calls,
only the import differs. ``fit_args`` gives ``fit``'s arguments. ``generate.py`` runs
this under real Keras 2.2.4 and writes ``data/<name>.json``; ``test_keras_numbers.py``
runs it with gradstep and compares. Runs on Python 3.8 (the Keras side) and 3.10+.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_DENSE = {"units", "activation", "use_bias", "kernel_constraint", "bias_constraint"}
_DENSE_REGULARIZERS = ("kernel_regularizer", "bias_regularizer", "activity_regularizer")


def _opt(name: str, **config: Any) -> dict[str, Any]:
    return {"class_name": name, "config": config}


def _mlp(*extra: dict[str, Any], **first: Any) -> list[dict[str, Any]]:
    hidden = {"type": "Dense", "name": "d1", "units": 5, "activation": "tanh"}
    hidden.update(first)
    out = {"type": "Dense", "name": "out", "units": 3, "activation": "softmax"}
    return [hidden, *extra, out]


_FIT = {"batch_size": 8, "epochs": 3, "shuffle": False}
_CE = {"loss": "categorical_crossentropy", "metrics": ["acc"]}

SCENARIOS: dict[str, dict[str, Any]] = {
    # Plain Sequential runs, one per optimizer (with a validation set).
    "sgd_momentum": dict(
        layers=_mlp(), optimizer=_opt("SGD", lr=0.1, momentum=0.9), validation=True
    ),
    "sgd_nesterov_decay": dict(
        layers=_mlp(),
        optimizer=_opt("SGD", lr=0.1, momentum=0.8, nesterov=True, decay=0.01),
    ),
    "adam": dict(layers=_mlp(), optimizer=_opt("Adam", lr=0.01), validation=True),
    "amsgrad_clipnorm": dict(
        layers=_mlp(), optimizer=_opt("Adam", lr=0.01, amsgrad=True, clipnorm=0.5)
    ),
    "rmsprop_decay": dict(
        layers=_mlp(), optimizer=_opt("RMSprop", lr=0.01, decay=0.05)
    ),
    "adagrad_clipvalue": dict(
        layers=_mlp(), optimizer=_opt("Adagrad", lr=0.05, clipvalue=0.1)
    ),
    "adadelta": dict(layers=_mlp(), optimizer=_opt("Adadelta", lr=1.0)),
    "adamax": dict(layers=_mlp(), optimizer=_opt("Adamax", lr=0.01)),
    "nadam": dict(layers=_mlp(), optimizer=_opt("Nadam", lr=0.01)),
    "mse_relu_adam": dict(
        layers=_mlp(activation="relu"),
        optimizer=_opt("Adam", lr=0.01),
        loss="mse",
        metrics=["mae"],
    ),
    # fit(sample_weight=...), one weight 0 (Keras divides by the nonzero count).
    "sample_weight": dict(
        layers=_mlp(), optimizer=_opt("SGD", lr=0.1, momentum=0.9), sample_weight=True
    ),
    "sample_weight_adam": dict(
        layers=_mlp(),
        optimizer=_opt("Adam", lr=0.01),
        sample_weight=True,
        validation=True,
    ),
    # fit(class_weight=...): weights by the argmax of the one-hot targets.
    "class_weight": dict(
        layers=_mlp(),
        optimizer=_opt("RMSprop", lr=0.01),
        class_weight={0: 1.0, 1: 2.5, 2: 0.5},
    ),
    # Constraints, applied by the optimizer after each update.
    "max_norm_non_neg": dict(
        layers=_mlp(
            kernel_constraint=["max_norm", {"max_value": 0.9}],
            bias_constraint=["non_neg", {}],
        ),
        optimizer=_opt("SGD", lr=0.5, momentum=0.9),
    ),
    "unit_norm_min_max_norm": dict(
        layers=_mlp(
            {
                "type": "Dense",
                "name": "d2",
                "units": 4,
                "activation": "tanh",
                "kernel_constraint": [
                    "min_max_norm",
                    {"min_value": 0.5, "max_value": 1.2, "rate": 0.7},
                ],
            },
            kernel_constraint=["unit_norm", {}],
        ),
        optimizer=_opt("Adam", lr=0.05),
    ),
    # BatchNormalization (moving statistics, training vs inference: val_loss).
    "batchnorm": dict(
        layers=_mlp(
            {"type": "BatchNormalization", "name": "bn", "momentum": 0.9},
            {"type": "Activation", "name": "act", "activation": "relu"},
            activation=None,
        ),
        optimizer=_opt("Adam", lr=0.01),
        validation=True,
    ),
    # A frozen layer: its weights are not given to the optimizer.
    "frozen": dict(
        layers=_mlp(
            {"type": "Dense", "name": "d2", "units": 4, "activation": "tanh"},
            trainable=False,
        ),
        optimizer=_opt("Adam", lr=0.01),
    ),
    # Validation sample weights (the 3-tuple) and weighted_metrics.
    "val_sample_weight_weighted_metrics": dict(
        layers=_mlp(),
        optimizer=_opt("Adam", lr=0.01),
        sample_weight=True,
        validation=True,
        val_sample_weight=True,
        weighted_metrics=["acc"],
    ),
    # class_weight and sample_weight together: Keras 2.2.4 warns and ignores
    # class_weight.
    "class_and_sample_weight": dict(
        layers=_mlp(),
        optimizer=_opt("SGD", lr=0.1, momentum=0.5),
        sample_weight=True,
        class_weight={0: 0.5, 1: 1.5, 2: 1.0},
        keras_warns="Found both `sample_weight` and `class_weight`",
    ),
    # A frozen BatchNormalization layer (Keras 2.2.4 does not update its statistics).
    "batchnorm_frozen": dict(
        layers=_mlp(
            {
                "type": "BatchNormalization",
                "name": "bn",
                "momentum": 0.8,
                "trainable": False,
            },
            {"type": "Activation", "name": "act", "activation": "tanh"},
            activation=None,
        ),
        optimizer=_opt("RMSprop", lr=0.01),
        validation=True,
    ),
    # Weight and activity regularizers (model.losses added to the loss).
    "regularizers": dict(
        layers=_mlp(
            kernel_regularizer=["l2", {"l": 0.01}],
            bias_regularizer=["l1", {"l": 0.02}],
            activity_regularizer=["l1_l2", {"l1": 0.001, "l2": 0.002}],
        ),
        optimizer=_opt("Adam", lr=0.01),
        validation=True,
    ),
    # Two inputs, two outputs, loss_weights as a list, a frozen layer.
    "two_in_two_out_list_frozen": dict(
        functional=True,
        frozen=["db"],
        optimizer=_opt("Adam", lr=0.01),
        loss=["categorical_crossentropy", "mse"],
        metrics=["acc"],
        loss_weights=[0.7, 1.3],
        validation=True,
    ),
    # Two inputs, two outputs, loss_weights (functional API).
    "two_in_two_out": dict(
        functional=True,
        optimizer=_opt("SGD", lr=0.05, momentum=0.9, nesterov=True),
        loss={"cls": "categorical_crossentropy", "reg": "mse"},
        metrics={"cls": ["acc"]},
        loss_weights={"cls": 1.0, "reg": 0.3},
        validation=True,
    ),
    # A learning-rate schedule callback (K.set_value on the optimizer's lr).
    "lr_schedule": dict(
        layers=_mlp(), optimizer=_opt("SGD", lr=0.2, momentum=0.9), callbacks=True
    ),
    # validation_split (the last samples, before shuffling) and initial_epoch.
    "validation_split_initial_epoch": dict(
        layers=_mlp(),
        optimizer=_opt("Adam", lr=0.01, decay=0.01),
        fit={"batch_size": 6, "epochs": 4, "shuffle": False, "initial_epoch": 1},
        validation_split=0.25,
    ),
    # fit_generator on a plain generator (workers=0) and on a utils.Sequence.
    "fit_generator": dict(
        layers=_mlp(),
        optimizer=_opt("Nadam", lr=0.01),
        generator="generator",
        validation=True,
    ),
    "fit_generator_sequence": dict(
        layers=_mlp(), optimizer=_opt("Adamax", lr=0.02), generator="sequence"
    ),
    # A Sequential model nested in a Sequential model.
    "nested_sequential": dict(
        layers=_mlp(), optimizer=_opt("RMSprop", lr=0.01), nested=True, validation=True
    ),
}

for _config in SCENARIOS.values():
    _config.setdefault("loss", _CE["loss"])
    _config.setdefault("metrics", _CE["metrics"])
    _config.setdefault("fit", dict(_FIT))


def _constraint(k: Any, spec: Any) -> Any:
    if spec is None:
        return None
    name, kwargs = spec
    return getattr(k.constraints, name)(**kwargs)


def _layer(k: Any, spec: dict[str, Any], first: bool) -> Any:
    kind = spec["type"]
    kwargs: dict[str, Any] = {"name": spec["name"]}
    if first:
        kwargs["input_shape"] = (4,)
    if "trainable" in spec:
        kwargs["trainable"] = spec["trainable"]
    if kind == "Dense":
        for key in _DENSE & set(spec):
            kwargs[key] = spec[key]
        for key in ("kernel_constraint", "bias_constraint"):
            if key in kwargs:
                kwargs[key] = _constraint(k, kwargs[key])
        for key in _DENSE_REGULARIZERS:
            if key in spec:
                name, arguments = spec[key]
                kwargs[key] = getattr(k.regularizers, name)(**arguments)
        return k.layers.Dense(**kwargs)
    if kind == "BatchNormalization":
        return k.layers.BatchNormalization(momentum=spec["momentum"], **kwargs)
    if kind == "Activation":
        return k.layers.Activation(spec["activation"], **kwargs)
    raise ValueError(f"unknown layer type {kind!r}")


def _functional(k: Any, frozen: Any = ()) -> Any:
    a = k.layers.Input(shape=(4,), name="in_a")
    b = k.layers.Input(shape=(2,), name="in_b")
    ha = k.layers.Dense(5, activation="tanh", name="da", trainable="da" not in frozen)(
        a
    )
    hb = k.layers.Dense(3, activation="relu", name="db", trainable="db" not in frozen)(
        b
    )
    h = k.layers.concatenate([ha, hb], name="cat")
    cls = k.layers.Dense(3, activation="softmax", name="cls")(h)
    reg = k.layers.Dense(1, name="reg")(hb)
    return k.models.Model(inputs=[a, b], outputs=[cls, reg])


def _nested(k: Any, config: dict[str, Any]) -> Any:
    inner = k.models.Sequential(name="inner")
    inner.add(_layer(k, config["layers"][0], True))
    model = k.models.Sequential()
    model.add(inner)
    for spec in config["layers"][1:]:
        model.add(_layer(k, spec, False))
    return model


def build(k: Any, config: dict[str, Any]) -> Any:
    """The scenario's model built with library ``k`` and compiled (weights not set)."""
    if config.get("functional"):
        model = _functional(k, config.get("frozen", ()))
    elif config.get("nested"):
        model = _nested(k, config)
    else:
        model = k.models.Sequential()
        for i, spec in enumerate(config["layers"]):
            model.add(_layer(k, spec, i == 0))
    spec = config["optimizer"]
    optimizer = getattr(k.optimizers, spec["class_name"])(**spec["config"])
    kwargs = {}
    for key in ("loss_weights", "weighted_metrics"):
        if key in config:
            kwargs[key] = config[key]
    model.compile(
        optimizer=optimizer, loss=config["loss"], metrics=config["metrics"], **kwargs
    )
    return model


def set_initial(model: Any, weights: dict[str, list[Any]]) -> None:
    """Give every layer its weights (stored by layer name) through ``model.set_weights``,
    whose list is the layers' weights in ``model.layers`` order (Keras's layout)."""
    arrays = [w for layer in model.layers for w in weights.get(layer.name, [])]
    model.set_weights([np.asarray(a) for a in arrays])


def layer_weights(model: Any) -> dict[str, list[np.ndarray]]:
    """Every layer's weights by layer name (layers without weights left out)."""
    out = {}
    for layer in model.layers:
        values = layer.get_weights()
        if values:
            out[layer.name] = values
    return out


def fit_args(config: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """``fit``'s keyword arguments for the scenario from its stored data."""
    arr = {key: np.asarray(value) for key, value in data.items()}
    if config.get("functional"):
        kwargs: dict[str, Any] = {
            "x": [arr["xa"], arr["xb"]],
            "y": {"cls": arr["y"], "reg": arr["yreg"]},
        }
        if config.get("validation"):
            kwargs["validation_data"] = (
                [arr["val_xa"], arr["val_xb"]],
                {"cls": arr["val_y"], "reg": arr["val_yreg"]},
            )
    else:
        kwargs = {"x": arr["x"], "y": arr["y"]}
        if config.get("val_sample_weight"):
            kwargs["validation_data"] = (
                arr["val_x"],
                arr["val_y"],
                arr["val_sample_weight"],
            )
        elif config.get("validation"):
            kwargs["validation_data"] = (arr["val_x"], arr["val_y"])
    if config.get("sample_weight"):
        kwargs["sample_weight"] = arr["sample_weight"]
    if "class_weight" in config:
        kwargs["class_weight"] = {int(c): w for c, w in config["class_weight"].items()}
    if "validation_split" in config:
        kwargs["validation_split"] = config["validation_split"]
    kwargs.update(config["fit"])
    kwargs["verbose"] = 0
    return kwargs


def schedule(epoch: int) -> float:
    """The ``lr_schedule`` scenario's learning rate of each epoch."""
    return 0.2 * 0.5**epoch


def _batches(x: np.ndarray, y: np.ndarray, size: int) -> Any:
    while True:  # Keras's generators loop forever
        for start in range(0, len(x), size):
            yield x[start : start + size], y[start : start + size]


def _sequence(k: Any, x: np.ndarray, y: np.ndarray, size: int) -> Any:
    class Batches(k.utils.Sequence):
        def __len__(self) -> int:
            return (len(x) + size - 1) // size

        def __getitem__(self, i: int) -> Any:
            return x[i * size : (i + 1) * size], y[i * size : (i + 1) * size]

    return Batches()


def train(k: Any, model: Any, config: dict[str, Any], data: dict[str, Any]) -> Any:
    """Train the scenario's model with library ``k``: ``fit`` (with the scenario's
    callbacks) or ``fit_generator``; returns the History."""
    kwargs = fit_args(config, data)
    if config.get("callbacks"):
        kwargs["callbacks"] = [k.callbacks.LearningRateScheduler(schedule)]
    kind = config.get("generator")
    if kind is None:
        return model.fit(**kwargs)
    x, y, size = kwargs.pop("x"), kwargs.pop("y"), kwargs.pop("batch_size")
    source = _batches(x, y, size) if kind == "generator" else _sequence(k, x, y, size)
    steps = (len(x) + size - 1) // size
    return model.fit_generator(source, steps_per_epoch=steps, workers=0, **kwargs)


def results(model: Any, config: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """``evaluate`` on the training data and ``predict`` on the validation inputs of the
    trained model (Sequential scenarios)."""
    if config.get("functional"):
        return {}
    x, y = np.asarray(data["x"]), np.asarray(data["y"])
    score = model.evaluate(x, y, batch_size=8, verbose=0)
    return {
        "evaluate": np.asarray(score, dtype="float64").reshape(-1).tolist(),
        "predict": np.asarray(model.predict(np.asarray(data["val_x"]), batch_size=5))
        .astype("float64")
        .tolist(),
    }


def make_data(seed: int) -> dict[str, Any]:
    """Inputs, one-hot targets, regression targets and sample weights (float64)."""
    rng = np.random.RandomState(seed)

    def onehot(n: int) -> np.ndarray:
        return np.eye(3)[rng.randint(0, 3, size=n)]

    sw = rng.uniform(0.2, 2.0, size=32)
    sw[5] = 0.0
    val_sw = rng.uniform(0.2, 2.0, size=12)
    data = {
        "x": rng.normal(size=(32, 4)),
        "y": onehot(32),
        "val_x": rng.normal(size=(12, 4)),
        "val_y": onehot(12),
        "xa": rng.normal(size=(32, 4)),
        "xb": rng.normal(size=(32, 2)),
        "yreg": rng.normal(size=(32, 1)),
        "val_xa": rng.normal(size=(12, 4)),
        "val_xb": rng.normal(size=(12, 2)),
        "val_yreg": rng.normal(size=(12, 1)),
        "sample_weight": sw,
        "val_sample_weight": val_sw,
    }
    return {key: value.tolist() for key, value in data.items()}


def initial_weights(model: Any, seed: int) -> dict[str, list[Any]]:
    """Seeded starting weights for every layer of a built model, by layer name:
    uniform in [-0.6, 0.6], moving variances in [0.5, 1.5]."""
    rng = np.random.RandomState(seed)
    out = {}
    for layer in model.layers:
        names = [str(w.name).split("/")[-1] for w in layer.weights]
        values = []
        for name, w in zip(names, layer.get_weights()):
            if name.startswith("moving_variance"):
                values.append(rng.uniform(0.5, 1.5, size=w.shape))
            else:
                values.append(rng.uniform(-0.6, 0.6, size=w.shape))
        if values:
            out[layer.name] = [v.tolist() for v in values]
    return out
