"""The weight shapes a model config asks for, found without building anything (no
weight is allocated): ``load_model`` compares them with the file's arrays first, so a
config asking for more memory than the file holds is refused. Nested models
('Sequential' or 'Model' entries) are followed through their configs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..layers._serialization import deserialize as deserialize_layer

__all__ = ["weight_shapes"]

_NETWORKS = ("Sequential", "Model")
Shapes = list[tuple[int, ...]]


class _Unknown(Exception):
    """A layer cannot tell its weight shapes (or an input shape is not defined)."""


def weight_shapes(
    class_name: str, config: Any, custom_objects: Mapping[str, Any] | None
) -> Shapes | None:
    """The shapes, in ``get_weights`` order; None when some layer cannot tell."""
    try:
        return _network(class_name, config, custom_objects, None)[0]
    except _Unknown:
        return None


def _network(class_name, config, custom_objects, input_shape):
    if class_name == "Sequential":
        return _sequential(config, custom_objects, input_shape)
    return _functional(config, custom_objects)


def _entry(entry: Any, custom_objects, shape):
    """(weight shapes, output shape) of one layer entry given its input shape."""
    if isinstance(entry, Mapping) and entry.get("class_name") in _NETWORKS:
        return _network(entry["class_name"], entry.get("config"), custom_objects, shape)
    layer = deserialize_layer(entry, custom_objects)
    if shape is None:
        shape = layer.batch_input_shape
        if shape is None:
            raise _Unknown
    declared = layer.weight_shapes(shape)
    if declared is None:
        raise _Unknown
    return list(declared.values()), layer.compute_output_shape(shape)


def _sequential(config, custom_objects, input_shape):
    if isinstance(config, list):  # Keras 2.2.0-2.2.2 wrote a bare list
        config = {"layers": config}
    if not isinstance(config, Mapping) or not isinstance(config.get("layers"), list):
        raise ValueError(
            f"Sequential config must be a dict with a 'layers' list: {config!r:.200}"
        )
    shape = input_shape
    if shape is None and config.get("build_input_shape") is not None:
        shape = (None, *tuple(config["build_input_shape"])[1:])
    shapes: Shapes = []
    for entry in config["layers"]:
        found, shape = _entry(entry, custom_objects, shape)
        shapes.extend(found)
    return shapes, shape


def _ref(ref: Any) -> tuple[str, int]:
    if (
        not isinstance(ref, (list, tuple))
        or len(ref) < 3
        or not isinstance(ref[0], str)
        or not isinstance(ref[2], int)
    ):
        raise ValueError(f"Model config: bad tensor reference {ref!r:.100}")
    return ref[0], ref[2]


def _functional(config, custom_objects):
    if not isinstance(config, Mapping) or not isinstance(config.get("layers"), list):
        raise ValueError(
            f"Model config must be a dict with a 'layers' list: {config!r:.200}"
        )
    entries = config["layers"]
    outputs: dict[str, list[Any]] = {}
    weights: dict[str, Shapes] = {}
    pending = []
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            raise ValueError(f"Model config: bad layer entry {entry!r:.200}")
        inbound = entry.get("inbound_nodes") or []
        if not isinstance(inbound, list) or len(inbound) > 1:
            raise ValueError(f"Model config: bad inbound nodes of {entry['name']!r}")
        if entry.get("class_name") == "InputLayer":
            found, shape = _entry(entry, custom_objects, None)
            outputs[entry["name"]], weights[entry["name"]] = [shape], found
        elif not inbound:
            raise ValueError(f"Model config: layer {entry['name']!r} has no input")
        else:
            if not isinstance(inbound[0], list) or not inbound[0]:
                raise ValueError(f"Model config: bad inbound node of {entry['name']!r}")
            pending.append((entry, [_ref(r) for r in inbound[0]]))
    while pending:
        progress = False
        for item in list(pending):
            entry, refs = item
            if any(name not in outputs for name, _ in refs):
                if any(
                    name not in {e.get("name") for e in entries} for name, _ in refs
                ):
                    raise ValueError(
                        f"Model config: {entry['name']!r} has unknown inputs"
                    )
                continue
            shapes = []
            for name, index in refs:
                if not 0 <= index < len(outputs[name]):
                    raise ValueError(
                        f"Model config: bad tensor index in {entry['name']!r}"
                    )
                shapes.append(outputs[name][index])
            found, out = _entry(
                entry, custom_objects, shapes if len(shapes) > 1 else shapes[0]
            )
            outputs[entry["name"]] = out if isinstance(out, list) else [out]
            weights[entry["name"]] = found
            pending.remove(item)
            progress = True
        if not progress:
            raise ValueError("Model config: the layers' inbound nodes form a cycle")
    result: Shapes = []
    for entry in entries:
        result.extend(weights[entry["name"]])
    outs = []
    for ref in config.get("output_layers") or []:
        name, index = _ref(ref)
        if name not in outputs or not 0 <= index < len(outputs[name]):
            raise ValueError(f"Model config: bad output layer {ref!r:.100}")
        outs.append(outputs[name][index])
    if not outs:
        raise ValueError("Model config: no output_layers")
    return result, outs if len(outs) > 1 else outs[0]
