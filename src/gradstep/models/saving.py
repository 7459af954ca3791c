"""Models from files and configs: ``load_model``, ``model_from_config``,
``model_from_json`` (the file format itself is ``_format``'s).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from .. import optimizers as optimizers_module
from .._seeding import restore_generator
from .._yaml import bounded_loader
from ._format import checked_weights, load_weights, read, save_model, save_weights
from ._shapes import weight_shapes
from .h5._dispatch import handler, is_h5_file
from .sequential import Sequential

__all__ = [
    "save_model",
    "load_model",
    "save_weights",
    "load_weights",
    "model_from_json",
    "model_from_yaml",
    "model_from_config",
]


def model_from_config(
    config: Mapping[str, Any], custom_objects: Mapping[str, Any] | None = None
):
    """A model from ``{'class_name': 'Sequential' or 'Model', 'config': ...}``."""
    from .functional import Model

    kinds = {"Sequential": Sequential, "Model": Model}
    if not isinstance(config, Mapping) or config.get("class_name") not in kinds:
        raise ValueError(
            "model config must be {'class_name': 'Sequential' or 'Model', 'config': "
            f"...}}, got {config!r:.200}"
        )
    return kinds[config["class_name"]].from_config(config.get("config"), custom_objects)


def model_from_json(json_string: str, custom_objects: Mapping[str, Any] | None = None):
    """A model from ``model.to_json()``'s output (weights freshly initialized)."""
    try:
        config = json.loads(json_string)
    except RecursionError:
        raise ValueError("model_from_json: the JSON is nested too deeply") from None
    except (TypeError, ValueError) as exc:
        raise ValueError(f"model_from_json: not valid JSON: {exc}") from None
    return model_from_config(config, custom_objects)


def model_from_yaml(yaml_string: str, custom_objects: Mapping[str, Any] | None = None):
    """A model from ``model.to_yaml()``'s output, gradstep's or Keras 2.2.4's (needs
    PyYAML; read with its safe loader, which builds only plain data)."""
    try:
        import yaml
    except ImportError:
        raise ImportError("model_from_yaml needs PyYAML: pip install pyyaml") from None

    class _Loader(bounded_loader(yaml)):  # type: ignore[misc]
        """The safe loader, reading Keras's ``!!python/tuple`` (yaml.dump of shapes) as
        a list; nothing else outside plain data, and no alias bomb (``gradstep._yaml``)."""

    _Loader.add_constructor(
        "tag:yaml.org,2002:python/tuple",
        lambda loader, node: loader.construct_sequence(node),
    )
    try:
        config = yaml.load(yaml_string, Loader=_Loader)  # noqa: S506 - a SafeLoader
    except RecursionError:
        raise ValueError("model_from_yaml: the YAML is nested too deeply") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"model_from_yaml: not valid YAML: {exc}") from None
    return model_from_config(config, custom_objects)


def load_model(
    filepath: Any, custom_objects: Mapping[str, Any] | None = None, compile: bool = True
):  # noqa: A002 - Keras's argument name
    """The model saved at ``filepath``: architecture, weights and, when ``compile`` and
    the file has them, the compiled loss, metrics, optimizer state and generator states.
    Only registered classes (or ``custom_objects``) are built. Keras 2.2 HDF5 files
    (.h5/.hdf5, or HDF5 content) are read by ``gradstep.models.h5.load_model``."""
    if is_h5_file(filepath):
        return handler("load_model")(filepath, custom_objects, compile)
    path = os.fspath(filepath)
    header, arrays = read(path)
    _check_architecture(path, header, custom_objects)
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
    model.set_weights(checked_weights(path, header, arrays, model))
    training = header.get("training_config")
    if compile and training is not None:
        _restore_training(path, model, header, arrays, training, custom_objects)
    _restore_rngs(path, model, header.get("rng"))
    return model


def _check_architecture(
    path: str, header: dict[str, Any], custom_objects: Mapping[str, Any] | None
) -> None:
    """The architecture the header describes must have exactly the weights the file
    holds (checked before the model is built, so a config asking for more memory than
    the file's arrays is refused without allocating it)."""
    config = header.get("model_config")
    if not isinstance(config, Mapping) or config.get("class_name") not in (
        "Sequential",
        "Model",
    ):
        raise ValueError(f"{path}: bad model config: {config!r:.200}")
    try:
        shapes = weight_shapes(
            config["class_name"], config.get("config"), custom_objects
        )
    except (TypeError, KeyError, ValueError) as exc:
        raise ValueError(f"{path}: bad model config: {exc}") from None
    held = [tuple(entry["shape"]) for entry in header["weights"]]
    if shapes is not None and shapes != held:
        raise ValueError(
            f"{path}: the model config asks for weights of shapes {shapes!r:.200}, the "
            f"file holds {held!r:.200}; the file is damaged or was altered"
        )


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
