"""Validated hyperparameters: descriptors that check and normalize every assignment, at
construction and later (schedulers set ``opt.lr`` between steps), before anything
changes.

Every value is stored as a plain Python ``float``, ``int``, ``bool`` or ``None``, whatever
it was given as (a NumPy scalar, a ``Fraction``...), so configs are JSON and torch state
dicts load under ``weights_only=True``. What is not a real number (a string, a complex
number, an array, a timedelta) is refused, and so is a number no float can hold
(``10**400``), with a message naming the argument.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .. import backend

__all__ = [
    "BUILT",
    "CONSTRUCTED",
    "Clip",
    "Flag",
    "Hyperparameter",
    "check_clip",
    "check_flag",
    "check_zero_unchanged",
    "check_number",
    "real_number",
]


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def real_number(name: str, value: Any, allowed: str) -> int | float:
    """``value`` as a Python int or float when it is a real number (not a bool), or
    ``ValueError`` saying ``name`` must be ``allowed``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be {allowed}, got {_shown(value)}")
    if isinstance(value, numbers.Integral):
        number: int | float = int(value)
        try:
            float(number)
        except OverflowError:
            raise ValueError(
                f"{name} must be {allowed}, got an integer too large for a float "
                f"({_shown(value)})"
            ) from None
        return number
    try:
        return float(value)
    except (OverflowError, TypeError, ValueError):
        raise ValueError(f"{name} must be {allowed}, got {_shown(value)}") from None


def check_number(
    name: str, value: Any, *, low: float = 0.0, high: float | None = None
) -> float:
    """``value`` as a Python float, or ``ValueError`` naming ``name`` and the allowed range.

    The range is ``low <= value`` and, when ``high`` is given, ``value < high``.
    """
    if high is not None:
        allowed = f"in [{low:g}, {high:g})"
    elif math.isinf(low):
        allowed = "a finite number"
    else:
        allowed = f"a finite number >= {low:g}"
    number = float(real_number(name, value, allowed))
    if (
        not math.isfinite(number)
        or number < low
        or (high is not None and number >= high)
    ):
        raise ValueError(f"{name} must be {allowed}, got {_shown(value)}")
    return number


def check_flag(name: str, value: Any) -> bool:
    """A boolean flag: ``True``/``False`` or 0/1 (NumPy's too), as a Python bool."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral) and int(value) in (0, 1):
        return bool(value)
    raise ValueError(f"{name} must be True or False, got {_shown(value)}")


BUILT = "built"  # whether a hyperparameter is 0 is fixed once the slots exist
CONSTRUCTED = "constructed"  # ... once the framework's constructor has run (tf_keras)
_ZERO_FIXED_WHY = {
    BUILT: "is built: a slot depends on it",
    CONSTRUCTED: (
        "is made: tf_keras chooses its update (with or without it) in the "
        "constructor and ignores a later change"
    ),
}


def check_zero_unchanged(name: str, before: float, value: float, since: str) -> None:
    """``ValueError`` when ``value`` is 0 and ``before`` was not, or the other way
    round: whether ``name`` is 0 is fixed ``since`` ``BUILT`` or ``CONSTRUCTED``."""
    if (value > 0) != (before > 0):
        raise ValueError(
            f"{name} cannot change between 0 and > 0 once the optimizer "
            f"{_ZERO_FIXED_WHY[since]}; make a new optimizer"
        )


def check_clip(name: str, value: Any) -> int | float | None:
    """``clipnorm``/``clipvalue``: None or 0 mean off, else a finite number > 0; kept as
    given (an int stays an int), as a Python number."""
    if value is None:
        return None
    number = real_number(name, value, "None, 0 (off) or a finite number > 0")
    if number != 0:
        check_number(name, number)
    return number


_MISSING: Any = object()  # no value assigned yet


class _Descriptor:
    """A validated attribute. After the value's own check, the owner's
    ``recheck_assignment(name, before)`` (where it has one) checks it together with the
    other settings (a flavour's rules: which clip keys combine, which knobs exist); when
    that raises, the attribute keeps its old value (``before``; ``_MISSING`` on the
    first assignment)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.attribute = "_hyper_" + name

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        return getattr(obj, self.attribute)

    def __set__(self, obj: Any, value: Any) -> None:
        checked = self.check(obj, value)
        before = obj.__dict__.get(self.attribute, _MISSING)
        setattr(obj, self.attribute, checked)
        recheck = getattr(obj, "recheck_assignment", None)
        if recheck is None:
            return
        try:
            recheck(self.name, before)
        except BaseException:  # the owner refused the new value: keep the old one
            if before is _MISSING:
                delattr(obj, self.attribute)
            else:
                setattr(obj, self.attribute, before)
            raise

    def check(self, obj: Any, value: Any) -> Any:
        raise NotImplementedError


class Hyperparameter(_Descriptor):
    """A float hyperparameter stored on the optimizer and validated on every assignment.
    ``zero_fixed_when_built``: whether it is 0 decides a slot, so it cannot cross 0 once
    the optimizer holds its slots (for optimizers without a flavours table; the
    built-in ones say it per flavour, ``Variant.zero_fixed``: RMSprop's momentum)."""

    def __init__(
        self,
        low: float = 0.0,
        high: float | None = None,
        zero_fixed_when_built: bool = False,
    ) -> None:
        self.low = low
        self.high = high
        self.zero_fixed_when_built = zero_fixed_when_built

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        value = getattr(obj, self.attribute)
        backend.handed_out(obj, self.name, value)  # for K.set_value(opt.lr, v)
        return value

    def check(self, obj: Any, value: Any) -> float:
        number = check_number(self.name, value, low=self.low, high=self.high)
        if self.zero_fixed_when_built and getattr(obj, "built", False):
            check_zero_unchanged(self.name, getattr(obj, self.attribute), number, BUILT)
        return number


class Flag(_Descriptor):
    """A boolean hyperparameter. ``fixed_when_built``: it decides the slots, so it cannot
    change once the optimizer holds them."""

    def __init__(self, fixed_when_built: bool = False) -> None:
        self.fixed_when_built = fixed_when_built

    def check(self, obj: Any, value: Any) -> bool:
        flag = check_flag(self.name, value)
        if (
            self.fixed_when_built
            and getattr(obj, "built", False)
            and flag != getattr(obj, self.attribute)
        ):
            raise ValueError(
                f"{self.name} cannot change once the optimizer is built: its slots "
                "depend on it; make a new optimizer"
            )
        return flag


class Clip(_Descriptor):
    """``clipnorm`` or ``clipvalue`` (see ``check_clip``)."""

    def check(self, obj: Any, value: Any) -> int | float | None:
        return check_clip(self.name, value)
