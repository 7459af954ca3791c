"""Engines: what runs an optimizer's per-element rule over the parameters.

Every engine runs the same rule function and gives the same results; they differ in speed.
``reference`` is a loop over tensors in NumPy; ``fused`` compiles the rule with numba into
one pass over memory (``pip install -e ".[fast]"``). ``select_engine(None)`` picks the
fastest engine available here: ``fused`` when numba can be imported, else ``reference``.
Neither choice imports numba; the fused engine does on its first step.
"""

from __future__ import annotations

from ._engine import Engine
from .flat import contiguous_span, flat_arrays, flatten
from .fused import FusedEngine, numba_available
from .reference import ReferenceEngine

__all__ = [
    "Engine",
    "FusedEngine",
    "ReferenceEngine",
    "contiguous_span",
    "engine_names",
    "flat_arrays",
    "flatten",
    "numba_available",
    "select_engine",
]

_ENGINES: dict[str, type] = {"reference": ReferenceEngine, "fused": FusedEngine}


def engine_names() -> list[str]:
    """The names ``select_engine`` accepts."""
    return sorted(_ENGINES)


def select_engine(name: str | None) -> Engine:
    """The engine called ``name``; ``None`` picks the fastest one available (``fused``
    when numba is installed, else ``reference``). ``"fused"`` without numba raises
    ``ImportError`` saying to ``pip install -e ".[fast]"``."""
    if name is None:
        return FusedEngine() if numba_available() else ReferenceEngine()
    if not isinstance(name, str) or name not in _ENGINES:
        raise ValueError(
            f"Unknown engine: {name!r}; expected one of {', '.join(engine_names())} or None"
        )
    return _ENGINES[name]()
