"""Models from Keras 2.2 HDF5 files: ``load_model`` and ``load_weights``.

The model (``Sequential``, or a functional ``Model`` where gradstep has it) is
rebuilt from ``model_config`` (registered layers only; a ``Lambda``
layer's marshalled code is refused, never run), in the dtype of the saved weights, and
compiled from ``training_config`` with the saved optimizer, whose state is restored from
``optimizer_weights`` in Keras 2.2.4's layout. What Keras 2.2.4 itself does not save is
reset as Keras's own ``load_model`` resets it: RMSprop, Adagrad and Adadelta files hold no
``iterations`` (learning-rate decay restarts from 0), Nadam files no ``m_schedule``
(back to 1). Unlike Keras, which only warns and keeps a fresh optimizer, optimizer
weights that do not fit are an error. Every check happens before the model is returned
or changed.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from ... import optimizers as optimizers_module
from ._order import keras_order
from ._read import KerasFile, read_model_file, read_weights_file

__all__ = ["load_model", "load_weights"]

_MODEL_CLASSES = ("Sequential", "Model")
_REFUSED = {
    "Lambda": "a Lambda layer holds marshalled Python code, which gradstep never runs",
}


def _check_layers(path: str, config: Any) -> None:
    layers = config.get("layers") if isinstance(config, Mapping) else config
    if not isinstance(layers, list):
        raise ValueError(f"{path}: the model config has no layer list")
    for layer in layers:
        name = layer.get("class_name") if isinstance(layer, Mapping) else None
        if name in _REFUSED:
            raise ValueError(f"{path}: refused: {_REFUSED[name]} (layer config {name})")


def _dtype(keras_file: KerasFile) -> str | None:
    dtypes = {str(w.dtype) for _, ws in keras_file.layers for _, w in ws}
    if len(dtypes) > 1:
        raise ValueError(
            f"{keras_file.path}: the model's weights have several dtypes {sorted(dtypes)}"
        )
    return dtypes.pop() if dtypes else None


def _with_dtype(config: Any, dtype: str | None) -> Any:
    """The Sequential config with ``dtype`` on every layer that does not set one (Keras
    builds them in its floatx; gradstep in the saved weights' dtype)."""
    config = copy.deepcopy(config)
    if dtype is None:
        return config
    layers = config["layers"] if isinstance(config, Mapping) else config
    for layer in layers:
        settings = layer.get("config") if isinstance(layer, Mapping) else None
        if isinstance(settings, dict) and settings.get("dtype") is None:
            settings["dtype"] = dtype
    return config


def _check_shapes(
    keras_file: KerasFile, kind: str, config: Any, custom_objects: Any
) -> None:
    """The weight shapes the config asks for must be the file's, checked before the
    model is built: a config asking for more memory than the file holds is refused
    without allocating it."""
    from ..functional import Model
    from ..sequential import Sequential

    shapes_of = getattr(
        {"Sequential": Sequential, "Model": Model}[kind], "weight_shapes_of", None
    )
    if shapes_of is None:
        return
    path = keras_file.path
    try:
        shapes = shapes_of(config, custom_objects)
    except (TypeError, KeyError, ValueError) as exc:
        raise ValueError(f"{path}: bad model config: {exc}") from None
    held = [w.shape for _, ws in keras_file.layers for _, w in ws]
    # sorted: Keras lists a nested model's trainable weights before its others
    if shapes is not None and sorted(tuple(s) for s in shapes) != sorted(held):
        raise ValueError(
            f"{path}: the model config asks for weights of shapes {shapes!r:.200}, the "
            f"file holds {held!r:.200}; the file is damaged or was altered"
        )


def _build(keras_file: KerasFile, custom_objects: Mapping[str, Any] | None) -> Any:
    from ..saving import model_from_config

    path, config = keras_file.path, keras_file.model_config
    kind = config.get("class_name") if isinstance(config, Mapping) else config
    if kind not in _MODEL_CLASSES:
        raise ValueError(
            f"{path}: model class {kind!r:.80} is not supported; gradstep reads "
            f"{' and '.join(_MODEL_CLASSES)} models from .h5 files"
        )
    _check_layers(path, config.get("config"))
    inner = _with_dtype(config.get("config"), _dtype(keras_file))
    _check_shapes(keras_file, kind, inner, custom_objects)
    try:
        model = model_from_config({"class_name": kind, "config": inner}, custom_objects)
    except (TypeError, KeyError, ValueError) as exc:
        raise ValueError(f"{path}: bad model config: {exc}") from None
    if not model.built:
        raise ValueError(f"{path}: the model config does not define its input shape")
    return model


def _matched(path: str, model: Any, layers: list, by_name: bool, skip: bool):
    """(layer, arrays) pairs, every count and shape checked as Keras 2.2.4 checks them
    (``skip``: a layer that does not fit is skipped with a warning, as in Keras)."""
    own = [layer for layer in model.layers if layer.weights]
    saved = [(name, ws) for name, ws in layers if ws]
    if by_name:
        index = {layer.name: layer for layer in own}
        pairs = [(index[name], ws) for name, ws in saved if name in index]
    else:
        if len(saved) != len(own):
            raise ValueError(
                f"{path}: You are trying to load a weight file containing {len(saved)} "
                f"layers into a model with {len(own)} layers."
            )
        pairs = list(zip(own, saved, strict=True))
        pairs = [(layer, ws) for layer, (_, ws) in pairs]
    out = []
    for layer, ws in pairs:
        arrays = [w for _, w in ws]
        shapes = [layer.weights[k].shape for k in keras_order(layer)]
        problem = None
        if len(arrays) != len(shapes):
            problem = f"expects {len(shapes)} weights, the file has {len(arrays)}"
        elif [a.shape for a in arrays] != shapes:
            problem = (
                f"has weights of shapes {shapes}, the file {[a.shape for a in arrays]}"
            )
        if problem is None:
            out.append((layer, arrays))
        elif skip:
            warnings.warn(
                f"Skipping loading of weights for layer {layer.name} due to mismatch: "
                f"it {problem}",
                stacklevel=4,
            )
        else:
            raise ValueError(f"{path}: layer {layer.name!r} {problem}")
    return out


def _assign(model: Any, pairs: list) -> None:
    for layer, arrays in pairs:  # a nested model's arrays come in Keras's order
        for k, a in zip(keras_order(layer), arrays):
            np.copyto(layer.weights[k], a, casting="unsafe")


def _named(value: Any, custom: Mapping[str, Any]) -> Any:
    """``value`` (a name, or a list/dict of names as multi-output models save them)
    with every name found in ``custom`` replaced by its object."""
    if isinstance(value, str):
        return custom.get(value, value)
    if isinstance(value, Mapping):
        return {k: _named(v, custom) for k, v in value.items()}
    if isinstance(value, list):
        return [_named(v, custom) for v in value]
    return value


def _compile(keras_file: KerasFile, model: Any, custom_objects: Any) -> None:
    path, training = keras_file.path, keras_file.training_config
    if not isinstance(training, Mapping):
        raise ValueError(f"{path}: training_config must be a JSON object")
    custom = dict(custom_objects or {})
    extra = {
        k: training[k]
        for k in ("loss_weights", "sample_weight_mode")
        if training.get(k) is not None
    }
    try:
        optimizer = optimizers_module.deserialize(training["optimizer_config"], custom)
        loss = _named(training["loss"], custom)
        metrics = _named(training.get("metrics") or [], custom)
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics, **extra)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: bad training config: {exc}") from None
    if keras_file.optimizer_weights:
        _, params = model._trainable_pairs()  # the arrays fit() hands the optimizer
        optimizer.build(params)
        try:
            optimizer.set_weights([w for _, w in keras_file.optimizer_weights])
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{path}: the optimizer weights do not fit the model: {exc}"
            ) from None


def load_model(
    filepath: Any,
    custom_objects: Mapping[str, Any] | None = None,
    compile: bool = True,  # noqa: A002 - Keras's argument name
) -> Any:
    """The model saved by Keras 2.2's (or gradstep's) ``model.save(... .h5)``, compiled
    with its optimizer state when ``compile`` and the file has a training config."""
    import os

    path = os.fspath(filepath)
    keras_file = read_model_file(path)
    model = _build(keras_file, custom_objects)
    _assign(model, _matched(path, model, keras_file.layers, False, False))
    if compile and keras_file.training_config is not None:
        _compile(keras_file, model, custom_objects)
    return model


def load_weights(
    model: Any, filepath: Any, by_name: bool = False, skip_mismatch: bool = False
) -> None:
    """Keras 2.2.4's ``load_weights`` for .h5 files (weights-only or model files): by
    layer order, or by layer name (``skip_mismatch`` skips layers whose weights do not
    fit). Everything is checked before any weight changes."""
    import os

    path = os.fspath(filepath)
    if not model.built:
        raise ValueError("build the model before loading weights into it")
    if skip_mismatch and not by_name:
        raise ValueError(
            "When calling model.load_weights, skip_mismatch can only be set to True "
            "when by_name is True."
        )
    keras_file = read_weights_file(path)
    _assign(model, _matched(path, model, keras_file.layers, by_name, skip_mismatch))
