"""Saving and loading models: one .npz file of arrays plus a JSON header, no pickle.

A model file holds ``__gradstep__`` (JSON: format version, the model config, the weight
names and shapes, the training config with the optimizer's ``serialize`` output, and the
random generators' states), ``weight_NNNN`` arrays and ``optimizer_weight_NNNN`` arrays
(``optimizer.get_weights()``). Files are written to a temporary file in the target
directory and moved into place with ``os.replace``, so a crash never leaves half a file.
Reading checks everything (zip CRCs, JSON, names, counts, shapes, dtypes) before any model
is built or changed; any problem raises ``ValueError`` naming the file and the problem.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import optimizers as optimizers_module
from ._seeding import generator_state, restore_generator

__all__ = [
    "save_model",
    "load_model",
    "save_weights",
    "load_weights",
    "model_from_json",
    "model_from_config",
]

_FORMAT = "gradstep.model"
_VERSION = 1
_HEADER = "__gradstep__"


def _atomic_savez(path: str, arrays: Mapping[str, np.ndarray], overwrite: bool) -> None:
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _header_array(header: dict[str, Any]) -> np.ndarray:
    return np.array(json.dumps(header, sort_keys=True))


def _weight_entries(model: Any) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    entries, arrays = [], {}
    for layer in model.layers:
        for name, w in zip(layer.weight_names, layer.weights):
            key = f"weight_{len(entries):04d}"
            entries.append(
                {
                    "name": f"{layer.name}/{name}",
                    "shape": list(w.shape),
                    "dtype": str(w.dtype),
                }
            )
            arrays[key] = w.copy()
    return entries, arrays


def _rng_states(model: Any) -> dict[str, Any]:
    layers = {}
    for layer in model.layers:
        rng = getattr(layer, "rng", None)
        if rng is not None and rng is not model._rngs.train:
            layers[layer.name] = generator_state(rng)
    return {
        "init": generator_state(model._rngs.init),
        "train": generator_state(model._rngs.train),
        "layers": layers,
    }


def save_model(
    model: Any, filepath: Any, overwrite: bool = True, include_optimizer: bool = True
) -> None:
    """Write ``model`` (see the module docstring)."""
    path = os.fspath(filepath)
    if not model.built:
        raise ValueError(
            "cannot save a model that is not built: give the first layer an "
            "input_shape, or call build/fit first"
        )
    entries, arrays = _weight_entries(model)
    header: dict[str, Any] = {
        "format": _FORMAT,
        "format_version": _VERSION,
        "model_config": {"class_name": "Sequential", "config": model.get_config()},
        "weights": entries,
        "rng": _rng_states(model),
        "training_config": None,
        "optimizer_weights": 0,
    }
    if include_optimizer and model.optimizer is not None:
        if not isinstance(model.optimizer, optimizers_module.Optimizer):
            raise ValueError(
                f"cannot save an optimizer of type {type(model.optimizer).__name__}: only "
                "gradstep optimizers have a config and state to save; pass "
                "include_optimizer=False"
            )
        opt_weights = model.optimizer.get_weights()
        header["training_config"] = {
            "loss": model.loss.name,
            "metrics": [
                m if isinstance(m, str) else m.__name__ for m in model._metric_specs
            ],
            "optimizer_config": optimizers_module.serialize(model.optimizer),
        }
        header["optimizer_weights"] = len(opt_weights)
        for i, w in enumerate(opt_weights):
            arrays[f"optimizer_weight_{i:04d}"] = np.asarray(w)
    arrays[_HEADER] = _header_array(header)
    _atomic_savez(path, arrays, overwrite)


def _read(path: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header and every array, read eagerly (so CRC errors surface here)."""
    with open(path, "rb") as f:
        try:
            with np.load(f, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            raise ValueError(
                f"{path} is not a readable gradstep model file (corrupt or truncated?): "
                f"{exc}"
            ) from None
    if _HEADER not in arrays:
        raise ValueError(f"{path} is not a gradstep model file: no {_HEADER} header")
    try:
        header = json.loads(str(arrays.pop(_HEADER)))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: the header is not valid JSON: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        raise ValueError(
            f"{path} is not a gradstep model file (format {header.get('format')!r})"
            if isinstance(header, dict)
            else f"{path}: malformed header"
        )
    if header.get("format_version") != _VERSION:
        raise ValueError(
            f"{path}: unsupported format_version {header.get('format_version')!r}; "
            f"this gradstep reads version {_VERSION}"
        )
    return header, arrays


def _checked_weights(
    path: str, header: dict, arrays: dict, model: Any
) -> list[np.ndarray]:
    entries = header.get("weights")
    if not isinstance(entries, list):
        raise ValueError(f"{path}: header has no weight list")
    expected = [
        (f"{layer.name}/{name}", w)
        for layer in model.layers
        for name, w in zip(layer.weight_names, layer.weights)
    ]
    if len(entries) != len(expected):
        raise ValueError(
            f"{path} holds {len(entries)} weights but the model has {len(expected)}; the "
            "file was saved from a different architecture"
        )
    values = []
    for i, (entry, (name, w)) in enumerate(zip(entries, expected)):
        key = f"weight_{i:04d}"
        if key not in arrays:
            raise ValueError(f"{path}: weight array {key} ({name}) is missing")
        value = arrays[key]
        # Matched by order, as Keras's load_weights(by_name=False): names may differ.
        if value.shape != w.shape:
            raise ValueError(
                f"{path}: weight {i} ({_entry_name(entry)}) "
                f"has shape {value.shape}, but the model expects {name} with shape {w.shape}"
            )
        if not np.issubdtype(value.dtype, np.floating):
            raise ValueError(
                f"{path}: weight {name} has dtype {value.dtype}, expected floats"
            )
        values.append(value)
    return values


def _entry_name(entry: Any) -> str:
    return str(entry.get("name")) if isinstance(entry, dict) else repr(entry)


def save_weights(model: Any, filepath: Any, overwrite: bool = True) -> None:
    """Write only the weights and their names (``load_weights`` reads them back)."""
    if not model.built:
        raise ValueError("cannot save the weights of a model that is not built")
    entries, arrays = _weight_entries(model)
    arrays[_HEADER] = _header_array(
        {"format": _FORMAT, "format_version": _VERSION, "weights": entries}
    )
    _atomic_savez(os.fspath(filepath), arrays, overwrite)


def load_weights(model: Any, filepath: Any) -> None:
    """Read weights from a ``save`` or ``save_weights`` file into ``model``; the model is
    unchanged when anything is wrong."""
    path = os.fspath(filepath)
    if not model.built:
        raise ValueError("build the model before loading weights into it")
    header, arrays = _read(path)
    values = _checked_weights(path, header, arrays, model)
    model.set_weights(values)


def model_from_config(
    config: Mapping[str, Any], custom_objects: Mapping[str, Any] | None = None
):
    """A model from ``{'class_name': 'Sequential', 'config': ...}``."""
    from .sequential import Sequential

    if not isinstance(config, Mapping) or config.get("class_name") != "Sequential":
        raise ValueError(
            "model config must be {'class_name': 'Sequential', 'config': ...}, got "
            f"{config!r:.200}"
        )
    return Sequential.from_config(config.get("config"), custom_objects)


def model_from_json(json_string: str, custom_objects: Mapping[str, Any] | None = None):
    """A model from ``model.to_json()``'s output (weights freshly initialized)."""
    try:
        config = json.loads(json_string)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"model_from_json: not valid JSON: {exc}") from None
    return model_from_config(config, custom_objects)


def load_model(
    filepath: Any, custom_objects: Mapping[str, Any] | None = None, compile: bool = True
):  # noqa: A002 - Keras's argument name
    """The model saved at ``filepath``: architecture, weights and, when ``compile`` and
    the file has them, the compiled loss, metrics, optimizer state and generator states.
    Only registered classes (or ``custom_objects``) are built."""
    path = os.fspath(filepath)
    header, arrays = _read(path)
    try:
        model = model_from_config(header.get("model_config"), custom_objects)
    except (TypeError, KeyError) as exc:
        raise ValueError(f"{path}: bad model config: {exc}") from None
    except ValueError as exc:
        raise ValueError(f"{path}: bad model config: {exc}") from None
    if not model.built:
        raise ValueError(
            f"{path}: the saved model config does not define its input shape"
        )
    model.set_weights(_checked_weights(path, header, arrays, model))
    training = header.get("training_config")
    if compile and training is not None:
        _restore_training(path, model, header, arrays, training, custom_objects)
    _restore_rngs(path, model, header.get("rng"))
    return model


def _restore_training(path, model, header, arrays, training, custom_objects):
    if not isinstance(training, dict):
        raise ValueError(f"{path}: malformed training_config")
    custom = dict(custom_objects or {})
    try:
        optimizer = optimizers_module.deserialize(training["optimizer_config"], custom)
        metrics = [custom.get(m, m) for m in training.get("metrics", [])]
        loss = custom.get(training["loss"], training["loss"])
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: bad training config: {exc}") from None
    count = header.get("optimizer_weights", 0)
    if not isinstance(count, int) or count < 0:
        raise ValueError(f"{path}: malformed optimizer_weights count {count!r}")
    if count:
        keys = [f"optimizer_weight_{i:04d}" for i in range(count)]
        missing = [k for k in keys if k not in arrays]
        if missing:
            raise ValueError(f"{path}: optimizer array {missing[0]} is missing")
        _, params = model._trainable_pairs()
        optimizer.build(params)
        try:
            optimizer.set_weights([arrays[k] for k in keys])
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{path}: optimizer state does not fit the model: {exc}"
            ) from None


def _restore_rngs(path, model, states):
    if states is None:
        return
    try:
        restore_generator(model._rngs.init, states["init"])
        restore_generator(model._rngs.train, states["train"])
        for name, state in states.get("layers", {}).items():
            layer = next((la for la in model.layers if la.name == name), None)
            if layer is None or getattr(layer, "rng", None) is None:
                raise ValueError(f"no layer {name!r} with its own generator")
            restore_generator(layer.rng, state)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"{path}: bad random generator state: {exc}") from None
