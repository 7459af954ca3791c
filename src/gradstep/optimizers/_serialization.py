"""``get``, ``serialize``, ``deserialize``: names and configs to optimizers and back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._base import Optimizer
from ._registry import OPTIMIZERS

__all__ = ["get", "serialize", "deserialize"]


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """``{'class_name': ..., 'config': ...}`` for an optimizer, as Keras writes it."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"serialize() expects an Optimizer, got {type(optimizer).__name__}"
        )
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(
    config: Mapping[str, Any], custom_objects: Mapping[str, type] | None = None
) -> Optimizer:
    """Build an optimizer from ``serialize``'s output. ``custom_objects`` (name -> class)
    take precedence over registered names; the caller's dict is never modified."""
    if not isinstance(config, Mapping):
        raise ValueError(f"Could not interpret optimizer config: {config!r}")
    if "class_name" not in config:
        raise ValueError(f"Optimizer config has no 'class_name': {dict(config)!r}")
    if "config" not in config:
        raise ValueError(
            f"Improper config format: {dict(config)!r}; expected a 'config' key"
        )
    name = config["class_name"]
    if not isinstance(name, str):
        raise ValueError(f"Optimizer class_name must be a string, got {name!r}")
    cls = _resolve(name, custom_objects or {})
    settings = config["config"]
    if not isinstance(settings, Mapping):
        raise ValueError(f"Optimizer 'config' must be a dict, got {settings!r}")
    return cls.from_config(dict(settings))


def get(identifier: Any) -> Optimizer:
    """An optimizer from an instance (returned as is), a name (a new instance with default
    arguments; any case) or a ``serialize`` dict."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, Mapping):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")


def _resolve(name: str, custom_objects: Mapping[str, type]) -> type:
    cls = OPTIMIZERS.find(name, custom_objects)
    if cls is None:
        known = sorted(set(OPTIMIZERS.names()) | set(custom_objects))
        raise ValueError(
            f"Unknown optimizer: {name}. Known optimizers: {', '.join(known)}"
        )
    if not (isinstance(cls, type) and issubclass(cls, Optimizer)):
        raise TypeError(f"{name!r} names {cls!r}, which is not an Optimizer subclass")
    return cls
