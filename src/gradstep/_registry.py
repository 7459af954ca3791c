"""Name registries: the only way a string in a config or an argument becomes an object.

Each kind (optimizers, layers, activations, losses, metrics, initializers, regularizers,
constraints) has one ``Registry``. ``custom_objects`` (name -> object) come first and are
never modified; then the global custom objects (Keras's ``_GLOBAL_CUSTOM_OBJECTS``, filled
by ``gradstep.utils.custom_object_scope`` or ``get_custom_objects()[name] = obj``); then
the registered names. Lookups are exact first, then case-insensitive, then
by class name (``serialize`` writes class names); unknown names raise ``ValueError``
listing the known ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

__all__ = ["Registry", "global_custom_objects"]

_T = TypeVar("_T")

# Keras's _GLOBAL_CUSTOM_OBJECTS: one dict for every kind, consulted by every lookup.
_GLOBAL_CUSTOM_OBJECTS: dict[str, Any] = {}


def global_custom_objects() -> dict[str, Any]:
    """The global custom objects (the dict itself: ``utils.get_custom_objects``)."""
    return _GLOBAL_CUSTOM_OBJECTS


class Registry:
    """A named collection of classes or objects of one kind (e.g. "activation")."""

    def __init__(self, kind: str, plural: str | None = None) -> None:
        self.kind = kind
        self.plural = plural or f"{kind}s"
        self._items: dict[str, Any] = {}

    def register(self, *names: str) -> Callable[[_T], _T]:
        """Decorator: make the object known under ``names`` (default: its ``__name__``).
        A name taken by another object raises ``ValueError``."""

        def decorate(obj: _T) -> _T:
            for name in names or (obj.__name__,):  # type: ignore[attr-defined]
                existing = self._items.get(name)
                if existing is not None and existing is not obj:
                    article = "An" if self.kind[:1] in "aeiou" else "A"
                    owner = getattr(existing, "__qualname__", repr(existing))
                    raise ValueError(
                        f"{article} {self.kind} is already registered as {name!r}: "
                        f"{owner}"
                    )
                self._items[name] = obj
            return obj

        return decorate

    def add(self, name: str, obj: Any) -> None:
        """Register ``obj`` under ``name`` (not as a decorator)."""
        self.register(name)(obj)

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        return sorted(self._items)

    def items(self) -> dict[str, Any]:
        """A copy of the registry: name -> object."""
        return dict(self._items)

    def find(
        self, name: str, custom_objects: Mapping[str, Any] | None = None
    ) -> Any | None:
        """The object called ``name`` (see the module docstring), or None."""
        for table in (custom_objects or {}, _GLOBAL_CUSTOM_OBJECTS, self._items):
            if name in table:
                return table[name]
            key = name.lower()
            for candidate, obj in table.items():
                if candidate.lower() == key:
                    return obj
        key = name.lower()
        for obj in self._items.values():
            if getattr(obj, "__name__", "").lower() == key:
                return obj
        return None

    def lookup(self, name: Any, custom_objects: Mapping[str, Any] | None = None) -> Any:
        """The object called ``name``; ``ValueError`` naming the known ones."""
        if not isinstance(name, str):
            raise ValueError(f"Could not interpret {self.kind} identifier: {name!r}")
        found = self.find(name, custom_objects)
        if found is None:
            known = sorted(
                set(self._items)
                | set(custom_objects or {})
                | set(_GLOBAL_CUSTOM_OBJECTS)
            )
            raise ValueError(
                f"Unknown {self.kind}: {name!r}. Known {self.plural}: {', '.join(known)}"
            )
        return found
