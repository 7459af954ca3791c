"""Engines: what runs an optimizer's per-element rule over the parameters.

Every engine runs the same rule function and gives the same results; they differ in speed.
``reference`` is a loop over tensors in NumPy. ``select_engine(None)`` picks the fastest
engine available here.
"""

from __future__ import annotations

from ._engine import Engine
from .reference import ReferenceEngine

__all__ = ["Engine", "ReferenceEngine", "select_engine", "engine_names"]

_ENGINES: dict[str, type] = {"reference": ReferenceEngine}


def engine_names() -> list[str]:
    """The names ``select_engine`` accepts."""
    return sorted(_ENGINES)


def select_engine(name: str | None) -> Engine:
    """The engine called ``name``; ``None`` picks the fastest one available."""
    if name is None:
        return ReferenceEngine()
    if not isinstance(name, str) or name not in _ENGINES:
        raise ValueError(
            f"Unknown engine: {name!r}; expected one of {', '.join(engine_names())} or None"
        )
    return _ENGINES[name]()
