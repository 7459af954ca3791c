"""Registry of optimizer classes by lower-case name; the only way names become classes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

__all__ = ["register", "lookup", "registered_names", "registered_classes"]

_T = TypeVar("_T", bound=type)
_REGISTRY: dict[str, type] = {}


def register(name: str | None = None) -> Callable[[_T], _T]:
    """Class decorator: make an optimizer class known to ``get``/``deserialize`` by name.

    The name is case-insensitive and defaults to the class name. Registering a second,
    different class under a taken name raises ``ValueError``.
    """

    def decorate(cls: _T) -> _T:
        key = (name or cls.__name__).lower()
        existing = _REGISTRY.get(key)
        if existing is not None and existing is not cls:
            raise ValueError(
                f"An optimizer is already registered as {key!r}: {existing.__qualname__}"
            )
        _REGISTRY[key] = cls
        return cls

    return decorate


def lookup(name: str) -> type | None:
    """The class registered under ``name``, or whose class name is ``name`` (any case, so
    ``serialize``'s class names resolve too), or None."""
    key = name.lower()
    if key in _REGISTRY:
        return _REGISTRY[key]
    for cls in _REGISTRY.values():
        if cls.__name__.lower() == key:
            return cls
    return None


def registered_names() -> list[str]:
    """Every registered name, sorted."""
    return sorted(_REGISTRY)


def registered_classes() -> dict[str, type]:
    """A copy of the registry: name -> class."""
    return dict(_REGISTRY)
