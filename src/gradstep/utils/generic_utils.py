"""Keras 2.2's ``keras.utils.generic_utils``: the global custom objects and the
(de)serialization of Keras objects.

Every deserializer (optimizers, layers, activations, losses, metrics, initializers,
regularizers, constraints) looks a name up in its ``custom_objects`` argument first, then
in the global custom objects, then in its own registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._registry import global_custom_objects

__all__ = [
    "CustomObjectScope",
    "custom_object_scope",
    "get_custom_objects",
    "serialize_keras_object",
    "deserialize_keras_object",
]


class CustomObjectScope:
    """``with CustomObjectScope({'MyLayer': MyLayer}): ...``: the dicts' names are
    global custom objects inside the block; the previous ones come back on exit."""

    def __init__(self, *args: Mapping[str, Any]) -> None:
        for i, objects in enumerate(args):
            if not isinstance(objects, Mapping):
                raise TypeError(
                    f"CustomObjectScope: argument {i} must be a dict of name -> object, "
                    f"got {type(objects).__name__}"
                )
        self.custom_objects = args
        self.backup: dict[str, Any] | None = None

    def __enter__(self) -> CustomObjectScope:
        table = global_custom_objects()
        self.backup = table.copy()
        for objects in self.custom_objects:
            table.update(objects)
        return self

    def __exit__(self, *exc: Any) -> None:
        table = global_custom_objects()
        table.clear()
        table.update(self.backup or {})


def custom_object_scope(*args: Mapping[str, Any]) -> CustomObjectScope:
    """``CustomObjectScope(*args)``, for ``with custom_object_scope({...}):``."""
    return CustomObjectScope(*args)


def get_custom_objects() -> dict[str, Any]:
    """The global custom objects, the dict itself:
    ``get_custom_objects()['my_loss'] = my_loss`` registers a name."""
    return global_custom_objects()


def serialize_keras_object(instance: Any) -> Any:
    """None, ``{'class_name': ..., 'config': instance.get_config()}`` for an object with
    ``get_config``, else its ``__name__`` (a function)."""
    if instance is None:
        return None
    if hasattr(instance, "get_config"):
        return {
            "class_name": type(instance).__name__,
            "config": instance.get_config(),
        }
    if hasattr(instance, "__name__"):
        return instance.__name__
    raise ValueError(f"Cannot serialize {instance!r}: it has no get_config or __name__")


def deserialize_keras_object(
    identifier: Any,
    module_objects: Mapping[str, Any] | None = None,
    custom_objects: Mapping[str, Any] | None = None,
    printable_module_name: str = "object",
) -> Any:
    """Keras's lookup: a ``{'class_name', 'config'}`` dict becomes
    ``cls.from_config(config)`` (or ``cls(**config)``), a string the object of that name;
    ``custom_objects``, then the global custom objects, then ``module_objects``."""
    tables = (custom_objects or {}, global_custom_objects(), module_objects or {})

    def find(name: str) -> Any:
        for table in tables:
            if name in table:
                return table[name]
        raise ValueError(f"Unknown {printable_module_name}: {name}")

    if isinstance(identifier, Mapping):
        if "class_name" not in identifier or "config" not in identifier:
            raise ValueError(f"Improper config format: {dict(identifier)!r}")
        cls = find(identifier["class_name"])
        config = dict(identifier["config"] or {})
        if hasattr(cls, "from_config"):
            return cls.from_config(config)
        return cls(**config)
    if isinstance(identifier, str):
        return find(identifier)
    raise ValueError(
        f"Could not interpret serialized {printable_module_name}: {identifier!r}"
    )
