"""The checks of a step's (gradient, parameter) pairs, shared by every NumPy optimizer and
by the wrapper of framework optimizers (``native.TorchOptimizer``).

``Binding`` holds the parameters an optimizer was built for and checks each step's pairs
against them before anything changes: ``None`` gradients, shapes, dtypes, read-only or
repeated parameters, other arrays than at the first step. The usual training loop, the
same arrays as the last step, costs one identity check per array.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..kernels._multi_tensor import same_items

__all__ = ["Binding", "check_grad", "check_param", "check_distinct"]

_NONE_GRADIENT = (
    "An operation has `None` for gradient. Please make sure that all of your ops have a "
    "gradient defined (i.e. are differentiable). Common ops without gradient: K.argmax, "
    "K.round, K.eval."
)
_dtype = operator.attrgetter("dtype")
_shape = operator.attrgetter("shape")
_writeable = operator.attrgetter("flags.writeable")


def check_param(i: int, param: Any) -> np.ndarray:
    """Parameter ``i`` as it must be: a writeable floating-point NumPy array."""
    if not isinstance(param, np.ndarray):
        raise TypeError(
            f"parameter {i} must be a NumPy array, got {type(param).__name__}"
        )
    if param.dtype.kind != "f":
        raise TypeError(
            f"parameter {i} has dtype {param.dtype}; parameters must be floating "
            "point (float16, float32 or float64)"
        )
    if not param.flags.writeable:
        raise ValueError(f"parameter {i} is read-only; the step updates it in place")
    return param


def check_grad(i: int, grad: Any, param: np.ndarray) -> np.ndarray:
    """Gradient ``i`` as an array of its parameter's shape and dtype."""
    if grad is None:
        raise ValueError(f"gradient {i}: {_NONE_GRADIENT}")
    if not isinstance(grad, np.ndarray):
        grad = np.asarray(grad)
    if grad.dtype.kind not in "fiu":
        raise TypeError(
            f"gradient {i} has dtype {grad.dtype}; expected numbers like its parameter"
        )
    if grad.shape != param.shape:
        raise ValueError(
            f"gradient {i} has shape {grad.shape} but its parameter has shape "
            f"{param.shape}; they must match"
        )
    return grad if grad.dtype == param.dtype else grad.astype(param.dtype)


def check_distinct(params: Sequence[np.ndarray]) -> None:
    """Each parameter may appear once."""
    seen: dict[int, int] = {}
    for i, p in enumerate(params):
        if id(p) in seen:
            raise ValueError(
                f"parameter {i} is the same array as parameter {seen[id(p)]}; each "
                "parameter may appear once per step"
            )
        seen[id(p)] = i


def _usual_pairs(
    pairs: list[Any],
) -> tuple[list[np.ndarray], list[np.ndarray]] | None:
    """The gradients and parameters of the usual pairs, checked in bulk (the per-pair
    cost matters at 1,000 tensors): 2-tuples of ndarrays, float parameters that can be
    written, gradients of the same dtype and shape. None when anything else is there;
    the pair-by-pair check then finds it and says which pair."""
    if set(map(type, pairs)) != {tuple} or set(map(len, pairs)) != {2}:
        return None
    grads, params = map(list, zip(*pairs))
    if set(map(type, grads)) != {np.ndarray} or set(map(type, params)) != {np.ndarray}:
        return None
    dtypes = list(map(_dtype, params))
    if (
        dtypes != list(map(_dtype, grads))
        or any(d.kind != "f" for d in set(dtypes))
        or list(map(_shape, params)) != list(map(_shape, grads))
        or not all(map(_writeable, params))
    ):
        return None
    return grads, params


def _each_pair(pairs: list[Any]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    grads, params = [], []
    for i, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(
                f"apply_gradients expects (gradient, parameter) pairs; item {i} is "
                f"{type(pair).__name__}"
            )
        grad, param = pair
        param = check_param(i, param)
        grads.append(check_grad(i, grad, param))
        params.append(param)
    return grads, params


class Binding:
    """The parameters an optimizer is bound to (None before its first step or
    ``build``), and the gradients of its last step."""

    def __init__(self, remember_grads: bool = True) -> None:
        self.params: list[np.ndarray] | None = None
        # The gradient arrays of the last step: the same arrays again need no new checks.
        self.last_grads: list[np.ndarray] | None = None
        self._remember_grads = remember_grads

    def pairs(
        self, grads_and_params: Iterable[tuple[Any, np.ndarray]]
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The checked gradients and parameters of one step's pairs (also checked
        against the bound parameters)."""
        try:
            pairs = list(grads_and_params)
        except TypeError:
            raise TypeError(
                "apply_gradients expects an iterable of (gradient, parameter) pairs, "
                f"got {type(grads_and_params).__name__}"
            ) from None
        if not pairs:
            raise ValueError("apply_gradients got no (gradient, parameter) pairs")
        if self.params is not None and self.last_grads is not None:
            same = self._same_arrays(pairs)
            if same is not None:
                return same
        checked = _usual_pairs(pairs)
        if checked is None:
            checked = _each_pair(pairs)
        if self.params is None:
            check_distinct(checked[1])
        else:
            self.check_same(checked[1])
        return checked

    def _same_arrays(
        self, pairs: list[Any]
    ) -> tuple[list[np.ndarray], list[np.ndarray]] | None:
        """``(grads, params)`` when ``pairs`` holds exactly the arrays of the last
        step, in order (the usual training loop, already checked then), else None."""
        assert self.params is not None and self.last_grads is not None
        if len(pairs) != len(self.params) or set(map(len, pairs)) != {2}:
            return None
        new_grads, new_params = zip(*pairs)
        if same_items(new_params, self.params) and same_items(
            new_grads, self.last_grads
        ):
            return self.last_grads, self.params
        return None

    def bind(self, params: list[np.ndarray]) -> None:
        """Bind to checked ``params`` (``build``)."""
        self.params, self.last_grads = params, None

    def stepped(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Record a step over ``params`` with ``grads`` (binds on the first one)."""
        self.params = params
        if self._remember_grads:
            self.last_grads = grads

    def build(self, params: Iterable[Any]) -> list[np.ndarray] | None:
        """The checked ``params``, or None when they are the bound ones already."""
        params = [check_param(i, p) for i, p in enumerate(params)]
        if not params:
            raise ValueError("build() got no parameters")
        check_distinct(params)
        if self.params is not None:
            self.check_same(params)
            return None
        return params

    def check_same(self, params: list[np.ndarray]) -> None:
        """``params`` must be the bound arrays, in order."""
        bound = self.params
        assert bound is not None
        if params is bound or same_items(params, bound):
            return
        if len(params) != len(bound):
            check_distinct(params)
            raise ValueError(
                f"this optimizer was built for {len(bound)} parameters and got "
                f"{len(params)}; use one optimizer per set of parameters"
            )
        for i, (new, old) in enumerate(zip(params, bound)):
            if new is not old:
                check_distinct(params)
                raise ValueError(
                    f"parameter {i} is not the array this optimizer was built for "
                    f"(shape {old.shape}, dtype {old.dtype}); pass the same arrays, in the "
                    "same order, at every step"
                )
