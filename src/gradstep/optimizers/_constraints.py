"""Weight constraints inside an optimizer step (Keras 2.2: ``new_p = constraint(new_p)``).

``apply_gradients(pairs, constraints=[...])`` takes one entry per pair, ``None`` or a
callable ``c(array) -> array`` of the parameter's shape (``gradstep.constraints`` has
Keras's). They are checked before the step; after the engine has updated the parameters,
each constrained parameter is replaced by ``c(p)`` with NumPy, before ``apply_gradients``
returns. If a constraint raises or returns a wrong shape, the parameters and slots are
put back as they were before the step, so nothing is half-stepped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["check_constraints", "ConstrainedStep"]

Constraints = list[tuple[int, Callable[[np.ndarray], Any]]]


def check_constraints(constraints: Any, count: int) -> Constraints:
    """``(index, constraint)`` for each non-None entry; ``ValueError``/``TypeError`` naming
    the argument when ``constraints`` is not None or a list of ``count`` entries."""
    if constraints is None:
        return []
    if isinstance(constraints, (str, bytes)) or callable(constraints):
        raise TypeError(
            "constraints must be a list with one entry per (gradient, parameter) pair "
            f"(None or a callable), got {type(constraints).__name__}"
        )
    try:
        entries = list(constraints)
    except TypeError:
        raise TypeError(
            "constraints must be a list with one entry per (gradient, parameter) pair "
            f"(None or a callable), got {type(constraints).__name__}"
        ) from None
    if len(entries) != count:
        raise ValueError(
            f"constraints has {len(entries)} entries for {count} (gradient, parameter) "
            "pairs; give one per pair, None where there is none"
        )
    found = []
    for i, c in enumerate(entries):
        if c is None:
            continue
        if not callable(c):
            raise TypeError(
                f"constraints[{i}] must be None or a callable array -> array, got "
                f"{type(c).__name__}"
            )
        found.append((i, c))
    return found


class ConstrainedStep:
    """Keeps copies of the parameters and slots a step changes, applies the constraints
    after it, and restores the copies if a constraint fails."""

    def __init__(
        self,
        constraints: Constraints,
        params: Sequence[np.ndarray],
        slots: Sequence[Sequence[np.ndarray]] = (),
    ) -> None:
        self.constraints = constraints
        self._params = params
        if not constraints:  # the usual step: nothing to keep, nothing to do
            self._arrays: list[np.ndarray] = []
            self._saved: list[np.ndarray] = []
            return
        self._arrays = [*params, *(s for group in slots for s in group)]
        self._saved = [a.copy() for a in self._arrays]

    def restore(self) -> None:
        """Put every saved array back."""
        for target, saved in zip(self._arrays, self._saved):
            np.copyto(target, saved)

    def apply(self) -> None:
        """Replace each constrained parameter by its constraint's value (all computed
        before any is written); on any error restore everything and re-raise."""
        if not self.constraints:
            return
        try:
            values = []
            for i, c in self.constraints:
                p = self._params[i]
                value = np.asarray(c(p.copy()))
                if value.shape != p.shape:
                    raise ValueError(
                        f"constraints[{i}] returned shape {value.shape} for parameter "
                        f"{i} of shape {p.shape}; a constraint must keep the shape"
                    )
                if value.dtype.kind not in "fiub":
                    raise TypeError(
                        f"constraints[{i}] returned dtype {value.dtype}; expected numbers"
                    )
                values.append((p, value))
        except BaseException:
            self.restore()
            raise
        for p, value in values:
            np.copyto(p, value, casting="unsafe")
