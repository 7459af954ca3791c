"""Writing Keras 2.2.4 HDF5 files: ``save_model`` and ``save_weights``.

The layout is the one Keras 2.2.4 writes with the Theano backend (weight names without
``:0``): root attributes ``keras_version`` ('2.2.4'), ``backend`` ('theano'),
``model_config`` and ``training_config`` (JSON, as fixed-length byte strings so that
h5py 2 reads them as Keras expects); ``model_weights/<layer>/<layer>/<weight>``
datasets listed by ``layer_names``/``weight_names`` attributes; ``optimizer_weights``
in Keras 2.2.4's list layout (without the entries Keras 2.2.4 does not save: RMSprop's,
Adagrad's and Adadelta's ``iterations``, Nadam's ``m_schedule``), so real Keras 2.2.4
loads the file without a warning and continues from it. The file is built in memory and
written atomically.
"""

from __future__ import annotations

import io
import json
import os
from typing import Any

import numpy as np

from ... import optimizers as optimizers_module
from ..._io import atomic_file
from ...optimizers._flavours import DEFAULT_FLAVOUR
from ._h5py import h5py
from ._order import keras_names, keras_order

__all__ = ["save_model", "save_weights", "keras224_optimizer_weights"]

KERAS_VERSION = "2.2.4"
BACKEND = "theano"


def _names(values: list[str]) -> np.ndarray:
    return np.array([v.encode("utf-8") for v in values]) if values else np.array([])


def _check(model: Any, path: str, overwrite: bool) -> None:
    if not model.built:
        raise ValueError(
            "cannot save a model that is not built: give the first layer an "
            "input_shape, or call build/fit first"
        )
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")


def _weights(group: Any, model: Any) -> None:
    group.attrs["layer_names"] = _names([layer.name for layer in model.layers])
    group.attrs["backend"] = np.bytes_(BACKEND)
    group.attrs["keras_version"] = np.bytes_(KERAS_VERSION)
    for layer in model.layers:  # a nested model's weights in Keras's order
        sub = group.create_group(layer.name)
        names = keras_names(layer)
        sub.attrs["weight_names"] = _names(names)
        for name, k in zip(names, keras_order(layer)):
            sub.create_dataset(name, data=np.asarray(layer.weights[k]))


def keras224_optimizer_weights(optimizer: Any) -> list[tuple[str, np.ndarray]]:
    """The optimizer's state as Keras 2.2.4 saves it: (name, array) pairs in Keras
    2.2.4's order, Theano-style names. Keras 2.2.4 leaves some state out (RMSprop's,
    Adagrad's and Adadelta's ``iterations``, Nadam's ``m_schedule``); a flavoured
    optimizer, whose file Keras 2.2.4 cannot read anyway, keeps all of it (the loader's
    ``set_weights`` takes either layout)."""
    names, _ = optimizer.weight_layout().entries()
    values = optimizer.get_weights()
    omits = optimizer.weight_layout().keras224_omits
    if getattr(optimizer, "flavour", DEFAULT_FLAVOUR) != DEFAULT_FLAVOUR:
        omits = ()
    kept = [(n, v) for n, v in zip(names, values) if n.split("[")[0] not in omits]
    cls = type(optimizer).__name__
    out = []
    for i, (name, value) in enumerate(kept):
        label = (
            f"{cls}/iterations"
            if name == "iterations"
            else f"training/{cls}/variable_{i}"
        )
        out.append((label, np.asarray(value)))
    return out


def _class_name(model: Any) -> str:
    """'Sequential', or 'Model' for a functional model (Keras's class names)."""
    return "Sequential" if type(model).__name__ == "Sequential" else "Model"


def _name(value: Any) -> Any:
    """Losses and metrics as the names Keras saves (lists and dicts kept)."""
    if isinstance(value, (str, type(None), int, float)):
        return value
    if isinstance(value, dict):
        return {k: _name(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_name(v) for v in value]
    name = getattr(value, "name", None) or getattr(value, "__name__", None)
    if not isinstance(name, str):
        raise ValueError(f"cannot save {value!r} to .h5: it has no Keras name")
    return name


def _compile_args(model: Any) -> tuple[Any, Any, Any]:
    """The loss, metrics and loss_weights given to ``compile`` (as Keras saves them)."""
    specs = getattr(getattr(model, "_compiled", None), "specs", None)
    if specs is not None:
        return specs[0], specs[1] or [], specs[2]
    return model.loss, list(model._metric_specs), None


def _training_config(model: Any) -> dict[str, Any]:
    loss, metrics, loss_weights = _compile_args(model)
    return {
        "optimizer_config": optimizers_module.serialize(model.optimizer),
        "loss": _name(loss),
        "metrics": _name(metrics),
        "sample_weight_mode": None,
        "loss_weights": _name(loss_weights),
    }


def _dump(path: str, fill: Any) -> None:
    buffer = io.BytesIO()
    with h5py().File(buffer, "w") as f:
        fill(f)
    with atomic_file(os.path.abspath(path), suffix=".h5") as handle:
        handle.write(buffer.getvalue())


def save_model(
    model: Any, filepath: Any, overwrite: bool = True, include_optimizer: bool = True
) -> None:
    """Write ``model`` as Keras 2.2.4's ``model.save`` does (see the module docstring)."""
    path = os.fspath(filepath)
    _check(model, path, overwrite)
    training = None
    opt_weights: list[tuple[str, np.ndarray]] = []
    if include_optimizer and model.optimizer is not None:
        if not isinstance(model.optimizer, optimizers_module.Optimizer):
            raise ValueError(
                f"cannot save an optimizer of type {type(model.optimizer).__name__} to "
                ".h5: only gradstep optimizers have a Keras config and state; pass "
                "include_optimizer=False"
            )
        training = _training_config(model)
        opt_weights = keras224_optimizer_weights(model.optimizer)
    config = {"class_name": _class_name(model), "config": model.get_config()}

    def fill(f: Any) -> None:
        f.attrs["keras_version"] = np.bytes_(KERAS_VERSION)
        f.attrs["backend"] = np.bytes_(BACKEND)
        f.attrs["model_config"] = np.bytes_(json.dumps(config).encode("utf-8"))
        _weights(f.create_group("model_weights"), model)
        if training is not None:
            text = json.dumps(training).encode("utf-8")
            f.attrs["training_config"] = np.bytes_(text)
        if opt_weights:
            group = f.create_group("optimizer_weights")
            group.attrs["weight_names"] = _names([n for n, _ in opt_weights])
            for name, value in opt_weights:
                group.create_dataset(name, data=value)

    _dump(path, fill)


def save_weights(model: Any, filepath: Any, overwrite: bool = True) -> None:
    """Write only the weights, in Keras 2.2.4's ``save_weights`` layout."""
    path = os.fspath(filepath)
    _check(model, path, overwrite)
    _dump(path, lambda f: _weights(f, model))
