"""Per-parameter step counts, for flavours whose framework keeps them (torch.optim).

torch.optim keeps ``state[p]["step"]`` for each parameter (and NAdam its
``mu_product``) and advances it only in the steps where ``p`` has a gradient; Keras
counts the optimizer's ``iterations``. Where the flavour's ``Framework`` says
``steps_per_parameter``, each parameter's count is its ``state[p]["step"]`` (a 0-dim
CPU float32 tensor, as torch keeps it) and its host scalars (Nadam's ``m_schedule``)
are ``state[p][name]``: 0-dim CPU tensors in torch's scalar dtype, as torch keeps NAdam's
``mu_product`` (float32 unless torch's default dtype is float64 when the state is made;
after a load, the parameter's dtype, as torch's loader casts it: ``loaded_count``). A
float32 scalar is read as a ``np.float32``, so the flavour's rule advances it in float32
as torch does. The group's ``iterations`` and scalars still count the group's steps, as
for every flavour.

Parameters with the same count and scalars form a ``Cohort``: one set of coefficients,
one engine call, and one counter tensor shared by its members (so a step writes each
counter once); a cohort whose members are no longer all stepped together gets tensors of
its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..optimizers._flavours import FRAMEWORKS
from ._checkpoint import MAX_ITERATIONS, check_count, check_scalar

__all__ = [
    "COUNT",
    "Cohort",
    "CohortTensors",
    "advance",
    "cohort",
    "cohorts_of",
    "counts_per_parameter",
    "holders",
    "loaded_count",
    "share",
]

COUNT = "step"


def counts_per_parameter(keras: Any) -> bool:
    """Whether ``keras``'s flavour counts each parameter's steps."""
    return FRAMEWORKS[keras.flavour].steps_per_parameter


@dataclass
class CohortTensors:
    """The tensors a cohort's members share: the counter and one per host scalar (with
    their NumPy views, through which a step writes them)."""

    counter: torch.Tensor
    scalars: dict[str, torch.Tensor]
    views: list[Any] = field(default_factory=list)

    @classmethod
    def new(
        cls, count: int, scalars: Mapping[str, float], dtype: torch.dtype
    ) -> CohortTensors:
        counter = torch.tensor(float(count), dtype=torch.float32)
        tensors = {k: torch.tensor(float(v), dtype=dtype) for k, v in scalars.items()}
        return cls(counter, tensors, [t.numpy() for t in (counter, *tensors.values())])

    def put(self, slots: dict[str, Any]) -> None:
        slots[COUNT] = self.counter
        slots.update(self.scalars)

    def read(self) -> tuple[int, dict[str, float]]:
        count = int(self.views[0][()])
        return count, {k: _value(v[()]) for k, v in zip(self.scalars, self.views[1:])}

    def write(self, count: int, scalars: Mapping[str, float]) -> None:
        self.views[0][()] = float(count)
        for name, view in zip(self.scalars, self.views[1:]):
            view[()] = scalars[name]

    @classmethod
    def of(cls, slots: Mapping[str, Any], names: tuple[str, ...]) -> CohortTensors:
        counter = slots[COUNT]
        tensors = {k: slots[k] for k in names}
        return cls(counter, tensors, [t.numpy() for t in (counter, *tensors.values())])


@dataclass
class Cohort:
    """The stepped parameters of a group with one count and one set of scalars."""

    t: int  # the step they take now
    coefficients: Any
    next_scalars: dict[str, float]
    members: list[int]  # positions in the plan's parameters
    scalar_dtype: torch.dtype = torch.float64  # the one their scalars are held in


def own_count(
    keras: Any,
    group: Mapping[str, Any],
    slots: Any,
    where: str,
    memo: dict[int, Any] | None = None,
) -> tuple[int, tuple[float, ...]]:
    """A parameter's count and scalars: from its state; 0 and the starting scalars for
    a parameter without state; the group's where its state has no count (a state made
    before counts were per parameter: then it mirrored the group's). ``memo`` keeps
    the values of the tensors read already (members of a cohort share them)."""
    if not slots:
        fresh = scalar_dtype() is torch.float32
        return 0, tuple(
            np.float32(v) if fresh else float(v) for v in keras.scalar_state.values()
        )
    if COUNT not in slots:
        return int(group.get("iterations", 0)), tuple(
            float(group.get(k, v)) for k, v in keras.scalar_state.items()
        )
    memo = {} if memo is None else memo
    count = _memoized(memo, slots[COUNT], lambda v: check_count(v, where))
    scalars = []
    for name in keras.scalar_state:
        value = slots.get(name, group.get(name, keras.scalar_state[name]))
        scalars.append(_memoized(memo, value, lambda v, n=name: _scalar(n, v, where)))
    return count, tuple(scalars)


def scalar_dtype() -> torch.dtype:
    """The dtype torch.optim gives a new state's scalars (its ``_get_scalar_dtype``)."""
    return (
        torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    )


def _scalar(name: str, value: Any, where: str) -> float:
    """A checked host scalar; a ``np.float32`` where a float32 tensor holds it."""
    number = check_scalar(name, value, where)
    if isinstance(value, torch.Tensor) and value.dtype == torch.float32:
        return np.float32(number)
    return number


def _value(scalar: Any) -> float:
    """A scalar read from a NumPy view: float32 stays a ``np.float32``."""
    return scalar if isinstance(scalar, np.float32) else float(scalar)


def _dtype_of(scalars: Any) -> torch.dtype:
    """The dtype a cohort's scalars are held in (float32 where one is)."""
    if any(isinstance(v, np.float32) for v in scalars):
        return torch.float32
    return torch.float64


def _memoized(memo: dict[int, Any], value: Any, read: Any) -> Any:
    if not isinstance(value, torch.Tensor):
        return read(value)
    entry = memo.get(id(value))
    if entry is None or entry[0] is not value:
        entry = memo[id(value)] = (value, read(value))
    return entry[1]


def cohort(keras: Any, count: int, scalars: Mapping[str, float]) -> Cohort:
    """The cohort of parameters that have taken ``count`` steps, with ``scalars``
    (its ``members`` left to the caller)."""
    if count >= MAX_ITERATIONS:
        raise ValueError(
            f"a parameter has taken {count} steps; at most 2**53 are counted exactly"
        )
    coefficients, next_scalars = keras.step_coefficients(count + 1, dict(scalars))
    return Cohort(
        count + 1, coefficients, next_scalars, [], _dtype_of(scalars.values())
    )


def cohorts_of(
    keras: Any,
    group: Mapping[str, Any],
    params: list[torch.Tensor],
    state: Any,
    index: int,
) -> list[Cohort]:
    """The cohorts of a group's stepped ``params`` (checked before anything changes)."""
    by_key: dict[tuple[Any, ...], list[int]] = {}
    memo: dict[int, Any] = {}
    for i, p in enumerate(params):
        try:
            key = own_count(keras, group, state.get(p), "", memo)
        except ValueError as error:
            position = next(j for j, q in enumerate(group["params"]) if q is p)
            raise ValueError(
                f"param group {index}, parameter {position}: state[p]: {error}"
            ) from None
        held = tuple(isinstance(v, np.float32) for v in key[1])
        by_key.setdefault((*key, held), []).append(i)
    cohorts = []
    for (count, scalars, _), members in by_key.items():
        made = cohort(keras, count, dict(zip(keras.scalar_state, scalars)))
        made.members = members
        cohorts.append(made)
    return cohorts


def holders(state: Any) -> Counter[int]:
    """How many parameters hold each counter tensor (by id)."""
    return Counter(id(slots.get(COUNT)) for slots in state.values() if slots)


def advance(
    state: Any,
    params: list[torch.Tensor],
    cohort: Cohort,
    held: Counter[int],
    names: tuple[str, ...],
) -> CohortTensors:
    """Count the step of a cohort's members: in place when they alone share one set of
    tensors, else in new tensors of their own. Returns the tensors."""
    members = [state[params[i]] for i in cohort.members]
    first = members[0]
    counter = first.get(COUNT)
    if (
        _own_scalar(counter, torch.float32)
        and held[id(counter)] == len(members)
        and all(slots.get(COUNT) is counter for slots in members)
        and all(
            _own_scalar(first.get(k), cohort.scalar_dtype)
            and all(slots.get(k) is first[k] for slots in members)
            for k in names
        )
    ):
        tensors = CohortTensors.of(first, names)
        tensors.write(cohort.t, cohort.next_scalars)
        return tensors
    tensors = CohortTensors.new(cohort.t, cohort.next_scalars, cohort.scalar_dtype)
    for slots in members:
        tensors.put(slots)
    return tensors


def _own_scalar(value: Any, dtype: torch.dtype) -> bool:
    """Whether ``value`` is a tensor as ``CohortTensors.new`` makes them."""
    return (
        isinstance(value, torch.Tensor)
        and value.dtype is dtype
        and value.dim() == 0
        and value.device.type == "cpu"
        and not value.requires_grad
    )


def loaded_count(
    keras: Any,
    group: Mapping[str, Any],
    slots: Mapping[str, Any],
    param_dtype: torch.dtype,
) -> tuple[int, tuple[float, ...]]:
    """The count and scalars of a loaded (checked) state: a scalar it lacks is the
    group's. The scalars are held in the parameter's dtype, as torch's loader casts
    every state tensor but ``step`` to it (NAdam's ``mu_product`` too), float32 for a
    16-bit parameter (whose slots gradstep keeps in float32)."""
    count, scalars = own_count(keras, group, slots, "")
    if param_dtype == torch.float64:
        return count, tuple(float(v) for v in scalars)
    return count, tuple(np.float32(v) for v in scalars)


def share(
    keras: Any,
    group: Mapping[str, Any],
    state: Any,
    saved: Mapping[int, tuple[int, tuple[float, ...]]],
) -> None:
    """Give the group's parameters with state one set of tensors per count and scalars
    (after ``load_state_dict``: ``saved`` holds what it loaded, by ``id(p)``; a
    parameter missing there counts the group's steps)."""
    names = tuple(keras.scalar_state)
    default = (
        int(group.get("iterations", 0)),
        tuple(float(group.get(k, v)) for k, v in keras.scalar_state.items()),
    )
    made: dict[tuple[Any, ...], CohortTensors] = {}
    for p in group["params"]:
        slots = state.get(p)
        if not slots:
            continue
        count, scalars = saved.get(id(p), default)
        dtype = _dtype_of(scalars)
        key = (count, scalars, dtype)
        tensors = made.get(key)
        if tensors is None:
            tensors = made[key] = CohortTensors.new(
                count, dict(zip(names, scalars)), dtype
            )
        tensors.put(slots)
