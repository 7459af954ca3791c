"""Keras's backend, the part Keras 2.2 code around the optimizers uses: the fuzz factor
``epsilon``, the default float type, ``image_data_format``, and ``get_value`` /
``set_value`` / ``batch_get_value`` / ``variable`` / ``eval``.

``epsilon()`` is read by an optimizer when it is built with ``epsilon=None``; changing it
later does not affect optimizers that already exist, as in Keras 2.2.

An optimizer's hyperparameters are plain Python floats (``type(opt.lr) is float``: configs
stay JSON, torch state dicts load under ``weights_only=True``), not variables. So that
Keras code's ``K.set_value(model.optimizer.lr, 0.01)`` and ``K.get_value(...)`` work,
every read of a float hyperparameter (``opt.lr``) is remembered: ``set_value(x, v)`` with
``x`` the very float object an optimizer handed out sets that optimizer's attribute
(``opt.lr = v``, validated as usual). The last 256 reads are remembered, so read the
attribute in the call (``K.set_value(opt.lr, v)``), as Keras code does. ``variable``
makes a small ``Variable`` holding a NumPy array, for everything else.
"""

from __future__ import annotations

import collections
import math
import threading
import weakref
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "Variable",
    "backend",
    "batch_get_value",
    "batch_set_value",
    "cast_to_floatx",
    "clear_session",
    "count_params",
    "epsilon",
    "eval",
    "floatx",
    "get_value",
    "image_data_format",
    "int_shape",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "set_value",
    "variable",
]

_FLOATX_CHOICES = ("float16", "float32", "float64")
_FORMATS = ("channels_last", "channels_first")
_epsilon = 1e-7
_floatx = "float32"
_image_data_format = "channels_last"


def backend() -> str:
    """The backend's name: 'numpy' (Keras says 'tensorflow', 'theano' or 'cntk')."""
    return "numpy"


def epsilon() -> float:
    """The fuzz factor used where an optimizer is given ``epsilon=None`` (default 1e-7)."""
    return _epsilon


def set_epsilon(value: float) -> None:
    """Set the fuzz factor; it must be a finite number >= 0."""
    global _epsilon
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"epsilon must be a number >= 0, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"epsilon must be a finite number >= 0, got {value!r}")
    _epsilon = value


def floatx() -> str:
    """The default float type of new weights, as a string: 'float32' unless changed."""
    return _floatx


def set_floatx(value: str) -> None:
    """Set the default float type: one of 'float16', 'float32', 'float64'."""
    global _floatx
    if value not in _FLOATX_CHOICES:
        raise ValueError(
            f"Unknown floatx type: {value!r}; expected one of {', '.join(_FLOATX_CHOICES)}"
        )
    _floatx = str(value)


def image_data_format() -> str:
    """'channels_last' unless changed (no layer here reads it: there is no convolution)."""
    return _image_data_format


def set_image_data_format(data_format: str) -> None:
    """Set the image data format: 'channels_last' or 'channels_first'."""
    global _image_data_format
    if data_format not in _FORMATS:
        raise ValueError(
            f"Unknown data_format: {data_format!r}; expected one of {', '.join(_FORMATS)}"
        )
    _image_data_format = str(data_format)


def cast_to_floatx(x: Any) -> np.ndarray:
    """``x`` as a NumPy array of ``floatx()``."""
    return np.asarray(x, dtype=_floatx)


def clear_session() -> None:
    """Nothing to clear: there is no graph (Keras scripts call it between models)."""


# ---- hyperparameters as variables ----------------------------------------------------
_HANDLES: collections.OrderedDict[int, tuple[float, weakref.ref, str]] = (
    collections.OrderedDict()
)
_HANDLES_KEPT = 256
_HANDLES_LOCK = threading.Lock()


def handed_out(owner: Any, name: str, value: Any) -> None:
    """Remember that ``owner.name`` returned the float ``value`` (called by the
    hyperparameter descriptors on every read), for ``set_value``."""
    if type(value) is not float:
        return
    try:
        ref = weakref.ref(owner)
    except TypeError:
        return
    with _HANDLES_LOCK:
        _HANDLES[id(value)] = (value, ref, name)
        _HANDLES.move_to_end(id(value))
        if len(_HANDLES) > _HANDLES_KEPT:
            _HANDLES.popitem(last=False)


def _owner(x: Any) -> tuple[Any, str] | None:
    with _HANDLES_LOCK:
        entry = _HANDLES.get(id(x))
    if entry is None or entry[0] is not x:
        return None
    owner = entry[1]()
    if owner is None:
        return None
    return owner, entry[2]


class Variable:
    """A named NumPy array standing for a Keras variable (``backend.variable``)."""

    def __init__(self, value: Any, dtype: Any = None, name: str | None = None) -> None:
        array = np.array(value, dtype=dtype or _floatx)
        self._value = array
        self.name = name or "variable"

    @property
    def dtype(self) -> str:
        return str(self._value.dtype)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._value.shape

    def numpy(self) -> np.ndarray:
        """A copy of the value."""
        return self._value.copy()

    def assign(self, value: Any) -> None:
        """Set the value: same shape (broadcast from a scalar), cast to the dtype."""
        new = np.asarray(value)
        if new.shape != self._value.shape and new.size != 1:
            raise ValueError(
                f"set_value: value of shape {new.shape} for variable {self.name!r} of "
                f"shape {self._value.shape}; the shapes must match"
            )
        try:
            self._value[...] = new
        except (TypeError, ValueError) as exc:
            raise ValueError(f"set_value: cannot store {value!r}: {exc}") from None

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self._value.astype(dtype) if dtype is not None else self._value.copy()

    def __float__(self) -> float:
        return float(self._value)

    def __repr__(self) -> str:
        return f"<Variable {self.name!r} shape={self.shape} dtype={self.dtype}>"


def variable(
    value: Any, dtype: Any = None, name: str | None = None, constraint: Any = None
) -> Variable:
    """A ``Variable`` holding a copy of ``value`` (dtype ``floatx()`` by default)."""
    if constraint is not None:
        raise ValueError(
            "variable(constraint=) is not supported: give constraints to the optimizer "
            "(apply_gradients(..., constraints=[...])) or to the layer"
        )
    return Variable(value, dtype, name)


def get_value(x: Any) -> Any:
    """The value of ``x``: a ``Variable``'s array (a copy), or ``x`` itself when it is a
    number (an optimizer hyperparameter such as ``opt.lr``) or an array."""
    if isinstance(x, Variable):
        return x.numpy()
    if isinstance(x, (bool, np.bool_)):
        return x
    if isinstance(x, (int, float, np.number)):
        return x
    if isinstance(x, np.ndarray):
        return x
    raise TypeError(
        f"get_value: expected a Variable, a number (e.g. optimizer.lr) or an array, got "
        f"{type(x).__name__}"
    )


def eval(x: Any) -> Any:  # noqa: A001 - Keras's name
    """``get_value(x)``."""
    return get_value(x)


def batch_get_value(xs: Iterable[Any]) -> list[Any]:
    """``[get_value(x) for x in xs]``."""
    return [get_value(x) for x in xs]


def set_value(x: Any, value: Any) -> None:
    """Set ``x`` to ``value``: a ``Variable``, or an optimizer hyperparameter just read
    (``set_value(model.optimizer.lr, 0.01)`` is ``model.optimizer.lr = 0.01``)."""
    if isinstance(x, Variable):
        x.assign(value)
        return
    found = _owner(x)
    if found is None:
        raise TypeError(
            "set_value: x must be a backend.variable or an optimizer hyperparameter read "
            "in the call, as in set_value(model.optimizer.lr, 0.01); got "
            f"{type(x).__name__} {x!r}, which is neither (a number held elsewhere cannot "
            "be changed through its value)"
        )
    owner, name = found
    if isinstance(value, (np.ndarray, Variable)):
        array = np.asarray(value)
        if array.size != 1:
            raise ValueError(
                f"set_value: {name} takes one number, got an array of shape "
                f"{array.shape}"
            )
        value = array.reshape(()).item()
    setattr(owner, name, value)


def batch_set_value(tuples: Iterable[Sequence[Any]]) -> None:
    """``set_value(x, value)`` for each ``(x, value)``."""
    for x, value in tuples:
        set_value(x, value)


def int_shape(x: Any) -> tuple[int, ...]:
    """The shape of an array or ``Variable``, as a tuple of ints."""
    return tuple(int(s) for s in np.shape(x))


def count_params(x: Any) -> int:
    """The number of elements of an array or ``Variable``."""
    return int(np.prod(np.shape(x), dtype=np.int64))
