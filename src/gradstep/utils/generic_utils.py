"""Keras 2.2's ``keras.utils.generic_utils``: the global custom objects and the
(de)serialization of Keras objects.

``Progbar`` is Keras's progress bar for hand-written loops. Every deserializer
(optimizers, layers, activations, losses, metrics, initializers, regularizers,
constraints) looks a name up in its ``custom_objects`` argument first, then in the global
custom objects, then in its own registry.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Mapping
from typing import Any

from .._progress import format_value
from .._registry import global_custom_objects

__all__ = [
    "Progbar",
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


class Progbar:
    """Keras 2.2.4's progress bar: ``update(current, values=[(name, value), ...])`` or
    ``add(n, values)``. Values are averaged over the steps they cover (weighted by
    ``current - seen``), except ``stateful_metrics``, shown as given. ``verbose=1``
    redraws one line (at most every ``interval`` seconds), ``verbose=2`` writes one line
    when ``target`` is reached, 0 nothing; ``target=None`` means unknown. ``stream``
    (default stdout) is gradstep's addition."""

    def __init__(
        self,
        target: int | None,
        width: int = 30,
        verbose: int = 1,
        interval: float = 0.05,
        stateful_metrics: Iterable[str] | None = None,
        stream: Any = None,
    ) -> None:
        if target is not None and (
            isinstance(target, bool) or not isinstance(target, int)
        ):
            raise ValueError(
                f"Progbar: target must be an integer or None, got {target!r}"
            )
        if verbose not in (0, 1, 2):
            raise ValueError(f"Progbar: verbose must be 0, 1 or 2, got {verbose!r}")
        self.target, self.width, self.verbose = target, int(width), verbose
        self.interval = float(interval)
        self.stateful_metrics = set(stateful_metrics or ())
        self.stream = stream
        self._values: dict[str, list[float]] = {}
        self._seen_so_far = 0
        self._start = time.time()
        self._last_update = 0.0

    def _text(self, current: int) -> str:
        if self.target is not None:
            digits = len(str(self.target))
            done = min(current / self.target, 1.0) if self.target else 1.0
            filled = int(self.width * done)
            bar = ""
            if filled > 0:
                end = ">" if current < self.target else "="
                bar = "=" * (filled - 1) + end
            bar += "." * (self.width - filled)
            head = f"{current:{digits}d}/{self.target} [{bar}]"
        else:
            head = f"{current:7d}/Unknown"
        for k, (total, count) in self._values.items():
            value = total if k in self.stateful_metrics else total / max(count, 1)
            head += f" - {k}: {format_value(value)}"
        return head

    def update(
        self, current: int, values: Iterable[tuple[str, float]] | None = None
    ) -> None:
        """Move to step ``current``, folding ``values`` into the averages."""
        steps = current - self._seen_so_far
        for k, v in values or []:
            if k in self.stateful_metrics:
                self._values[k] = [float(v), 1]
            elif k not in self._values:
                self._values[k] = [float(v) * steps, steps]
            else:
                self._values[k][0] += float(v) * steps
                self._values[k][1] += steps
        self._seen_so_far = current
        out = self.stream or sys.stdout
        finished = self.target is not None and current >= self.target
        now = time.time()
        if self.verbose == 1:
            if not finished and now - self._last_update < self.interval:
                return
            out.write("\r" + self._text(current) + ("\n" if finished else ""))
        elif self.verbose == 2 and finished:
            out.write(self._text(current) + "\n")
        if hasattr(out, "flush"):
            out.flush()
        self._last_update = now

    def add(self, n: int, values: Iterable[tuple[str, float]] | None = None) -> None:
        """``update(seen + n, values)``."""
        self.update(self._seen_so_far + n, values)
