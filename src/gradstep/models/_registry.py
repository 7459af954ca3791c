"""Name registries: the only way a string in a config or an argument becomes an object.

Each kind (layers, activations, losses, initializers, regularizers) has one ``Registry``.
Lookups are exact first, then case-insensitive; unknown names raise ``ValueError`` listing
the known ones. ``custom_objects`` (name -> object) take precedence and are never
modified.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

__all__ = ["Registry"]

_T = TypeVar("_T")


class Registry:
    """A named collection of classes or objects of one kind (e.g. "activation")."""

    def __init__(self, kind: str, plural: str | None = None) -> None:
        self.kind = kind
        self.plural = plural or f"{kind}s"
        self._items: dict[str, Any] = {}

    def register(self, *names: str) -> Callable[[_T], _T]:
        """Decorator: make the object known under ``names`` (default: its ``__name__``)."""

        def decorate(obj: _T) -> _T:
            for name in names or (obj.__name__,):  # type: ignore[attr-defined]
                existing = self._items.get(name)
                if existing is not None and existing is not obj:
                    raise ValueError(f"A {self.kind} is already registered as {name!r}")
                self._items[name] = obj
            return obj

        return decorate

    def add(self, name: str, obj: Any) -> None:
        """Register ``obj`` under ``name`` (not as a decorator)."""
        self.register(name)(obj)

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        return sorted(self._items)

    def lookup(self, name: str, custom_objects: Mapping[str, Any] | None = None) -> Any:
        """The object registered as ``name``; ``ValueError`` naming the known ones."""
        if not isinstance(name, str):
            raise ValueError(f"Could not interpret {self.kind} identifier: {name!r}")
        custom = dict(custom_objects or {})
        if name in custom:
            return custom[name]
        if name in self._items:
            return self._items[name]
        lowered = {k.lower(): v for k, v in self._items.items()}
        if name.lower() in lowered:
            return lowered[name.lower()]
        known = sorted(set(self._items) | set(custom))
        raise ValueError(
            f"Unknown {self.kind}: {name!r}. Known {self.plural}: {', '.join(known)}"
        )
