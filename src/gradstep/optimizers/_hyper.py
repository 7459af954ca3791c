"""Validated hyperparameters: a descriptor that checks every assignment, at construction
and later (schedulers set ``opt.lr`` between steps), before anything changes."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["Hyperparameter", "check_number", "check_flag", "check_clip"]


def check_number(
    name: str, value: Any, *, low: float = 0.0, high: float | None = None
) -> float:
    """``value`` as a Python float, or ``ValueError`` naming ``name`` and the allowed range.

    The range is ``low <= value`` and, when ``high`` is given, ``value < high``.
    """
    allowed = (
        f"a finite number >= {low:g}" if high is None else f"in [{low:g}, {high:g})"
    )
    if isinstance(value, bool) or not _is_real(value):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    number = float(value)
    if (
        not math.isfinite(number)
        or number < low
        or (high is not None and number >= high)
    ):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return number


def check_flag(name: str, value: Any) -> Any:
    """A boolean flag: ``True``/``False`` or 0/1 (kept as given, as Keras does)."""
    if value in (True, False) and not isinstance(value, float):
        return value
    raise ValueError(f"{name} must be True or False, got {value!r}")


def check_clip(name: str, value: Any) -> Any:
    """``clipnorm``/``clipvalue``: None or 0 mean off, else a finite number > 0 (kept)."""
    if value is None:
        return None
    check_number(name, value)
    return value


def _is_real(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, (str, bytes, complex)) and not hasattr(
        value, "__len__"
    )


class Hyperparameter:
    """A float hyperparameter stored on the optimizer and validated on every assignment."""

    def __init__(self, low: float = 0.0, high: float | None = None) -> None:
        self.low = low
        self.high = high

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.attribute = "_hyper_" + name

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        return getattr(obj, self.attribute)

    def __set__(self, obj: Any, value: Any) -> None:
        setattr(
            obj,
            self.attribute,
            check_number(self.name, value, low=self.low, high=self.high),
        )
