"""The layout of an optimizer's complete state as a list of arrays (``get_weights``).

Keras 2.3's layout: ``iterations`` (0-d int64), the host scalars (Nadam's
``m_schedule``), then each slot for every parameter in order, then the (1,)-shaped
placeholders of slots the configuration never uses (Adam's ``vhat`` without AMSGrad).
Keras 2.2.4 left some entries out (``iterations`` for RMSprop/Adagrad/Adadelta, Nadam's
``m_schedule``); its shorter lists are accepted, with those entries at their start
values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["MAX_ITERATIONS", "WeightLayout", "State"]

MAX_ITERATIONS = 2**63 - 1  # the counter is an int64 in the weights, as in Keras
_REAL_KINDS = "biuf"


@dataclass(frozen=True)
class State:
    """The values of a weight list, checked: the counter, the host scalars by name and
    the slot arrays (slot-major: every parameter's first slot, then the second...)."""

    iterations: int
    scalars: dict[str, float]
    slots: list[np.ndarray]


@dataclass(frozen=True)
class WeightLayout:
    """The names and shapes of the weights of an optimizer bound to parameters of
    ``shapes`` (None: not bound yet, no weights at all, as in Keras)."""

    scalar_state: Mapping[str, float]
    slot_names: tuple[str, ...]
    legacy_slot_names: tuple[str, ...]
    keras224_omits: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...] | None

    def entries(self) -> tuple[list[str], list[tuple[int, ...]]]:
        """Every weight's name (``m[0]``...) and shape, in order."""
        if self.shapes is None:
            return [], []
        names = ["iterations", *self.scalar_state]
        shapes: list[tuple[int, ...]] = [()] * len(names)
        count = len(self.shapes)
        for slot in self.slot_names:
            names += [f"{slot}[{i}]" for i in range(count)]
            shapes += list(self.shapes)
        for slot in self.legacy_slot_names:
            names += [f"{slot}[{i}]" for i in range(count)]
            shapes += [(1,)] * count
        return names, shapes

    def pack(
        self,
        iterations: int,
        scalars: Mapping[str, float],
        slots: Sequence[tuple[np.ndarray, ...]],
        dtypes: Sequence[np.dtype],
    ) -> list[np.ndarray]:
        """The weight list of this state (copies)."""
        weights = [np.array(iterations, dtype=np.int64)]
        weights += [np.array(scalars[k], dtype=np.float64) for k in self.scalar_state]
        for k in range(len(self.slot_names)):
            weights += [per_param[k].copy() for per_param in slots]
        for _ in self.legacy_slot_names:
            weights += [np.zeros((1,), dtype=d) for d in dtypes]
        return weights

    def unpack(self, weights: Sequence[Any]) -> State | None:
        """The state held by ``weights``, every length, shape and value checked;
        ``ValueError`` names the first that is wrong. None for the empty list of an
        optimizer that is not bound yet (nothing to set, as in Keras)."""
        names, shapes = self.entries()
        weights = list(weights)
        if len(weights) != len(names):
            short = [n for n in names if n.split("[")[0] not in self.keras224_omits]
            if self.keras224_omits and len(weights) == len(short):
                weights = self._fill_omitted(names, weights)
            else:
                raise ValueError(
                    f"Length of the specified weight list ({len(weights)}) does not match "
                    f"the number of weights of the optimizer ({len(names)})"
                    + ("" if self.shapes else "; it has none before build() or a step")
                )
        if not names:
            return None
        arrays = []
        for name, shape, value in zip(names, shapes, weights):
            if not hasattr(value, "shape"):
                raise ValueError(
                    f"optimizer weight {name} must be an array, got {type(value).__name__}"
                )
            value = np.asarray(value)
            if value.shape != shape:
                raise ValueError(
                    f"Optimizer weight shape {shape} not compatible with provided weight "
                    f"shape {value.shape} (weight {name})"
                )
            if value.dtype.kind not in _REAL_KINDS:
                raise ValueError(
                    f"optimizer weight {name} has dtype {value.dtype}; expected real "
                    "numbers (bool, integer or float)"
                )
            arrays.append(value)
        iterations = arrays[0]
        if not (
            np.isfinite(iterations)
            and iterations == np.floor(iterations)
            and 0 <= int(iterations) <= MAX_ITERATIONS
        ):
            raise ValueError(
                f"iterations must be an integer in [0, 2**63 - 1], got {iterations!r}"
            )
        count = len(self.scalar_state)
        for name, value in zip(names[1 : 1 + count], arrays[1 : 1 + count]):
            if not np.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value!r}")
        return State(
            iterations=int(iterations),
            scalars={
                k: float(v) for k, v in zip(self.scalar_state, arrays[1 : 1 + count])
            },
            slots=arrays[1 + count :],
        )

    def _fill_omitted(self, names: list[str], weights: list[Any]) -> list[Any]:
        start = {"iterations": np.array(0, dtype=np.int64)}
        start.update({k: np.array(v) for k, v in self.scalar_state.items()})
        given = iter(weights)
        return [start[n] if n in self.keras224_omits else next(given) for n in names]
