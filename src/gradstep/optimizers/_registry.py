"""The optimizer registry: lower-case name -> class, the only way names become classes.

It is the single source of truth of which optimizers exist: ``get``/``deserialize``,
every front end (``gradstep.torch``) and the registry tests read it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from .._registry import Registry

__all__ = [
    "OPTIMIZERS",
    "builtin_classes",
    "lookup",
    "register",
    "registered_classes",
    "registered_names",
]

_T = TypeVar("_T", bound=type)
OPTIMIZERS = Registry("optimizer")


def register(name: str | None = None) -> Callable[[_T], _T]:
    """Class decorator: make an optimizer class known to ``get``/``deserialize`` and to
    every front end by name.

    The name is case-insensitive and defaults to the class name. Registering a second,
    different class under a taken name raises ``ValueError``.
    """

    def decorate(cls: _T) -> _T:
        return OPTIMIZERS.register((name or cls.__name__).lower())(cls)

    return decorate


def lookup(name: str) -> type | None:
    """The class registered under ``name``, or whose class name is ``name`` (any case, so
    ``serialize``'s class names resolve too), or None."""
    return OPTIMIZERS.find(name)


def registered_names() -> list[str]:
    """Every registered name, sorted."""
    return OPTIMIZERS.names()


def registered_classes() -> dict[str, type]:
    """A copy of the registry: name -> class."""
    return OPTIMIZERS.items()


def builtin_classes() -> dict[str, type]:
    """The registered classes defined in gradstep itself (not by a user's script)."""
    return {
        name: cls
        for name, cls in OPTIMIZERS.items().items()
        if cls.__module__.startswith("gradstep.")
    }
