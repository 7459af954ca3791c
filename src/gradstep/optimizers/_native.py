"""What the wrappers of framework optimizers share (``TorchOptimizer``,
``OptaxOptimizer``): Keras's clipping before the framework's step, the pair checks,
constraints after it, the step counter and the checks of restored weight lists.

A wrapper defines ``_bind(arrays)`` (build the framework optimizer on the bound arrays)
and ``_framework_step(params, grads)`` (one step of it, writing ``params`` in place).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..kernels.clip import Clipping, squared_norms
from ._checks import Binding, plain_views
from ._constraints import ConstrainedStep, check_constraints
from ._hyper import Clip
from ._weights import MAX_ITERATIONS

__all__ = ["NativeOptimizer", "check_weight_count", "restored_iterations"]

_REBIND_HINT = (
    "These are other arrays (another model's, or a model's compiled again, which lays "
    "its weights out anew and rebinds its optimizer): compile the model you train "
    "with this optimizer, or call optimizer.rebind() (a fresh framework state; "
    "iterations and lr carry on), or give each model its own optimizer"
)


class NativeOptimizer:
    """Base of the wrappers of framework optimizers (see the module docstring)."""

    clipnorm = Clip()
    clipvalue = Clip()

    def __init__(self, clipnorm: float | None, clipvalue: float | None) -> None:
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.iterations = 0
        # every step's pairs are checked in full (the gradients are not remembered)
        self._binding = Binding(remember_grads=False)

    def _bind(self, arrays: list[np.ndarray]) -> None:
        raise NotImplementedError

    def _unbind(self) -> None:
        """Drop the framework optimizer built for the bound arrays, keeping its
        hyperparameters for the next ``_bind`` (raise, before any change, when it
        cannot be rebuilt)."""
        raise NotImplementedError

    @property
    def built(self) -> bool:
        """Whether the wrapper is bound to its arrays (after ``build`` or a step)."""
        return self._binding.params is not None

    def rebind(self) -> None:
        """Forget the bound arrays and the framework optimizer's state for them, as
        ``Optimizer.rebind``: the next ``build`` or step binds to new arrays (a model
        compiled again lays its weights out anew) with a fresh framework state;
        ``iterations``, ``lr`` and the clipping carry on."""
        if self.built:
            self._unbind()
        self._binding = Binding(remember_grads=False)

    def _framework_step(
        self, params: list[np.ndarray], grads: list[np.ndarray]
    ) -> None:
        raise NotImplementedError

    def build(self, params: Sequence[np.ndarray]) -> None:
        """Build the framework optimizer for ``params`` now (``apply_gradients`` does it
        on its first call)."""
        if self.built:
            params = list(params)
            self._check_bound_params(params)
        checked = self._binding.build(params)
        if checked is not None:
            self._bind(plain_views(checked))
            self._binding.bind(checked)

    def apply_gradients(
        self,
        grads_and_params: Iterable[tuple[Any, np.ndarray]],
        constraints: Sequence[Any] | None = None,
    ) -> None:
        """One framework step over every (gradient, parameter) pair, after Keras's
        clipping; the NumPy parameters change in place. Malformed pairs raise before
        anything changes. ``constraints``: as ``Optimizer.apply_gradients`` (applied
        after the step; if one fails the parameters are restored, the wrapped
        optimizer's own state is not)."""
        if self.built:
            grads_and_params = _listed(grads_and_params)
            self._check_bound(grads_and_params)
        grads, params = self._binding.pairs(grads_and_params)
        guard = ConstrainedStep(check_constraints(constraints, len(params)), params)
        if self._binding.params is None:
            self._bind(params)
        self._binding.stepped(grads)
        clipping = Clipping.of(self.clipnorm, self.clipvalue)
        grads = clipping.apply(grads, clipping.scale(lambda: squared_norms(grads)))
        self._framework_step(params, grads)
        guard.apply()
        self.iterations += 1

    def _check_bound(self, pairs: Any) -> None:
        """Well-formed ``pairs`` over other arrays than the bound ones raise the pair
        checks' message with the usual cause (a model compiled again) and the way out
        (``rebind``)."""
        try:
            params = [param for _, param in pairs]
        except (TypeError, ValueError):  # malformed: the pair checks say how
            return
        self._check_bound_params(params)

    def _check_bound_params(self, params: list[Any]) -> None:
        """Arrays other than the bound ones raise (with the hint of ``_check_bound``);
        anything but arrays is left to the parameter checks."""
        bound = self._binding.params
        assert bound is not None
        if not all(isinstance(p, np.ndarray) for p in params) or (
            len(params) == len(bound) and all(a is b for a, b in zip(params, bound))
        ):
            return
        try:
            self._binding.check_same(params)
        except ValueError as error:
            raise ValueError(f"{error}. {_REBIND_HINT}") from None


def _listed(items: Any) -> Any:
    """``items`` as a list when it is iterable (it is read twice), else as it is."""
    return list(items) if isinstance(items, Iterable) else items


def check_weight_count(weights: Sequence[Any], expected: int) -> list[np.ndarray]:
    """``weights`` as arrays, when there are ``expected`` of them."""
    if len(weights) != expected:
        raise ValueError(
            f"Length of the specified weight list ({len(weights)}) does not match the "
            f"number of weights of the optimizer ({expected})"
        )
    return [np.asarray(w) for w in weights]


def restored_iterations(value: np.ndarray) -> int:
    """The counter of a restored weight list: an integer in [0, 2**63 - 1]."""
    if not (
        value.shape == ()
        and value.dtype.kind in "biuf"
        and np.isfinite(value)
        and value == np.floor(value)
        and 0 <= int(value) <= MAX_ITERATIONS
    ):
        raise ValueError(
            f"iterations must be an integer in [0, 2**63 - 1], got {value!r}"
        )
    return int(value)
