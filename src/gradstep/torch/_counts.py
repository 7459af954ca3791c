"""Per-parameter step counts, for flavours whose framework keeps them (torch.optim).

torch.optim keeps ``state[p]["step"]`` for each parameter (and NAdam its
``mu_product``) and advances it only in the steps where ``p`` has a gradient; Keras
counts the optimizer's ``iterations``. Where the flavour's ``Framework`` says
``steps_per_parameter``, each parameter's count is its ``state[p]["step"]`` (a 0-dim
CPU float32 tensor, as torch keeps it) and its host scalars (Nadam's ``m_schedule``)
are ``state[p][name]`` (0-dim CPU float64 tensors); the group's ``iterations`` and
scalars still count the group's steps, as for every flavour.

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
    def new(cls, count: int, scalars: Mapping[str, float]) -> CohortTensors:
        counter = torch.tensor(float(count), dtype=torch.float32)
        tensors = {k: torch.tensor(v, dtype=torch.float64) for k, v in scalars.items()}
        return cls(counter, tensors, [t.numpy() for t in (counter, *tensors.values())])

    def put(self, slots: dict[str, Any]) -> None:
        slots[COUNT] = self.counter
        slots.update(self.scalars)

    def read(self) -> tuple[int, dict[str, float]]:
        count = int(self.views[0][()])
        return count, {k: float(v[()]) for k, v in zip(self.scalars, self.views[1:])}

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
        return 0, tuple(float(v) for v in keras.scalar_state.values())
    if COUNT not in slots:
        return int(group.get("iterations", 0)), tuple(
            float(group.get(k, v)) for k, v in keras.scalar_state.items()
        )
    memo = {} if memo is None else memo
    count = _memoized(memo, slots[COUNT], lambda v: check_count(v, where))
    scalars = []
    for name in keras.scalar_state:
        value = slots.get(name, group.get(name, keras.scalar_state[name]))
        scalars.append(
            _memoized(memo, value, lambda v, n=name: check_scalar(n, v, where))
        )
    return count, tuple(scalars)


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
    return Cohort(count + 1, coefficients, next_scalars, [])


def cohorts_of(
    keras: Any,
    group: Mapping[str, Any],
    params: list[torch.Tensor],
    state: Any,
    index: int,
) -> list[Cohort]:
    """The cohorts of a group's stepped ``params`` (checked before anything changes)."""
    by_key: dict[tuple[int, tuple[float, ...]], list[int]] = {}
    memo: dict[int, Any] = {}
    for i, p in enumerate(params):
        try:
            key = own_count(keras, group, state.get(p), "", memo)
        except ValueError as error:
            position = next(j for j, q in enumerate(group["params"]) if q is p)
            raise ValueError(
                f"param group {index}, parameter {position}: state[p]: {error}"
            ) from None
        by_key.setdefault(key, []).append(i)
    cohorts = []
    for (count, scalars), members in by_key.items():
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
            _own_scalar(first.get(k), torch.float64)
            and all(slots.get(k) is first[k] for slots in members)
            for k in names
        )
    ):
        tensors = CohortTensors.of(first, names)
        tensors.write(cohort.t, cohort.next_scalars)
        return tensors
    tensors = CohortTensors.new(cohort.t, cohort.next_scalars)
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
    keras: Any, group: Mapping[str, Any], slots: Mapping[str, Any]
) -> tuple[int, tuple[float, ...]]:
    """The count and scalars of a loaded (checked) state: a scalar it lacks is the
    group's."""
    return own_count(keras, group, slots, "")


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
    made: dict[tuple[int, tuple[float, ...]], CohortTensors] = {}
    for p in group["params"]:
        slots = state.get(p)
        if not slots:
            continue
        key = saved.get(id(p), default)
        tensors = made.get(key)
        if tensors is None:
            tensors = made[key] = CohortTensors.new(key[0], dict(zip(names, key[1])))
        tensors.put(slots)
