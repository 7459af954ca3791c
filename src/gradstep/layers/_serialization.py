"""Layer configs: ``serialize`` and ``deserialize`` (registered classes only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import (  # noqa: F401 - registers the built-in layers
    _input,
    advanced_activations,
    core,
    merge,
    noise,
    normalization,
    reshaping,
)
from ._base import LAYERS, Layer

__all__ = ["serialize", "deserialize"]


def serialize(layer: Layer) -> dict[str, Any]:
    """``{'class_name': ..., 'config': ...}`` as Keras writes it."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config: Any, custom_objects: Mapping[str, Any] | None = None) -> Layer:
    """A layer from ``serialize``'s output; only registered classes (or
    ``custom_objects``) are built."""
    if not isinstance(config, Mapping) or "class_name" not in config:
        raise ValueError(f"Could not interpret layer config: {config!r}")
    cls = LAYERS.lookup(config["class_name"], custom_objects)
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise ValueError(
            f"{config['class_name']!r} names {cls!r}, which is not a Layer"
        )
    settings = config.get("config", {})
    if not isinstance(settings, Mapping):
        raise ValueError(f"layer 'config' must be a dict, got {settings!r}")
    if getattr(cls, "config_takes_custom_objects", False):  # nested models
        return cls.from_config(settings, custom_objects)
    return cls.from_config(settings)
