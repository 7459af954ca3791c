"""One step of a gradstep.torch optimizer: checks, clipping, then the rule on every tensor.

Plain float32/float64 CPU tensors (and the CPU shards of DTensors) are handed to a NumPy
engine as zero-copy views (``Tensor.numpy()``), one engine call per param group and dtype;
everything else runs the same rule with torch operations, in float32 for float16/bfloat16.
Everything that can be wrong is checked for all groups before any tensor or counter
changes. Once a step has run this general path with every tensor on the fused engine,
the next ones take the steady path (``_steady``) for as long as nothing changes.

A ``Stepper`` owns everything a step keeps for the next one (the NumPy views of the
parameters and slots, the gathered gradient buffers, the steady records); the optimizer
holds one and calls ``Stepper.step`` with its groups, state and clipping.
"""

from __future__ import annotations

import contextlib
import math
import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..kernels import Engine
from ..kernels._multi_tensor import same_items
from ..kernels.clip import Clipping, total
from ..kernels.flat import contiguous_span
from . import _counts, _state
from ._checkpoint import check_iterations, check_scalar
from ._clipping import scaled_gradients, sum_of_squares
from ._distributed import (
    LOCAL,
    is_dtensor,
    local_tensor,
    sum_over_group,
    total_squared_norm,
)
from ._numpy_views import numpy_view, shares_storage
from ._ops import torch_clip_element, torch_rule
from ._steady import Steady, same_snapshot, state_snapshot, steady_record

__all__ = ["Stepper"]

KerasFor = Callable[[Mapping[str, Any], int], Any]
_REQUIRES_GRAD = operator.attrgetter("requires_grad")


@dataclass
class _Bucket:
    """The tensors of one engine call: same group (coefficients) and dtype."""

    key: tuple[int, int, torch.dtype]  # group, cohort, dtype
    coefficients: Any
    tensors: list[tuple[torch.Tensor, torch.Tensor]] = field(default_factory=list)
    params: list[np.ndarray] = field(default_factory=list)
    grads: list[np.ndarray] = field(default_factory=list)
    slots: list[tuple[np.ndarray, ...]] = field(default_factory=list)


@dataclass
class _BucketViews:
    """The NumPy views of a bucket's parameters and slots, kept while the same tensors,
    with the same storage, come back (``_unchanged``)."""

    tensors: list[torch.Tensor]
    pointers: list[int]
    slots: list[tuple[tuple[torch.Tensor, int], ...]]  # (slot tensor, its data_ptr)
    param_arrays: list[np.ndarray]
    slot_arrays: list[tuple[np.ndarray, ...]]
    storage: dict[Any, Any]  # the entries of ``Stepper.views`` they are views of


@dataclass
class _GradBuffer:
    """A bucket's gradients gathered into one buffer (``flatten_params``)."""

    buffer: torch.Tensor
    views: list[torch.Tensor]
    arrays: list[np.ndarray]
    pointers: list[int]  # the views' addresses (``p.grad.data = x`` changes one)


@dataclass
class _SteadyPart:
    """A steady record and, where parameters count their own steps, the tensors of
    the cohort it steps; ``params``: the cohort's, when the group has several, and
    ``positions``: theirs among the group's stepped parameters (the order in which
    clipnorm adds their squares, as on the general path)."""

    record: Steady
    tensors: _counts.CohortTensors | None = None
    params: list[torch.Tensor] | None = None  # None: the group's
    positions: list[int] | None = None


@dataclass
class _SteadyGroup:
    """A group's steady records: one, or one per cohort (then ``stepped`` is which of
    the group's parameters have gradients, as the records hold them)."""

    per_parameter: bool
    parts: list[_SteadyPart]
    stepped: list[bool] | None = None


@dataclass
class _Plan:
    """What one param group does in this step, computed before anything changes.
    ``cohorts``: where each parameter counts its own steps (``_counts``), the stepped
    parameters by their count, with their coefficients (None: the group's ``t`` and
    ``coefficients`` for all); ``counts``: their tensors after the step."""

    group: dict[str, Any]
    t: int
    rule: Any
    coefficients: Any
    next_scalars: dict[str, float]
    names: tuple[str, ...]
    starts: tuple[float, ...] = ()
    keras: Any = None
    params: list[torch.Tensor] = field(default_factory=list)
    grads: list[torch.Tensor] = field(default_factory=list)
    cohorts: list[_counts.Cohort] | None = None
    counts: list[_counts.CohortTensors] = field(default_factory=list)

    def coefficients_of(self) -> list[Any]:
        """The coefficients of each stepped parameter."""
        if self.cohorts is None:
            return [self.coefficients] * len(self.params)
        result: list[Any] = [None] * len(self.params)
        for cohort in self.cohorts:
            for i in cohort.members:
                result[i] = cohort.coefficients
        return result


class Stepper:
    """The step of one gradstep.torch optimizer and the caches it keeps between steps.

    Args:
        engine: the NumPy engine of the CPU float32/float64 tensors.
        torch_ops: run every tensor with torch operations instead.
        flatten_params: gather each bucket's gradients into one buffer (see
            ``KerasTorchOptimizer``).
        clipnorm_group: ``_distributed.LOCAL``, None (the world) or a ProcessGroup.
        owner: the optimizer's class name, for messages.
    """

    def __init__(
        self,
        engine: Engine,
        torch_ops: bool,
        flatten_params: bool,
        clipnorm_group: Any,
        owner: str,
    ) -> None:
        self.engine = engine
        self.torch_ops = torch_ops
        self.flatten_params = flatten_params
        self.clipnorm_group = clipnorm_group
        self.owner = owner
        self.reset()

    def reset(self) -> None:
        """Forget every cached view, buffer and steady record (after the state or the
        groups were replaced)."""
        # id(tensor) / storage key -> (tensor, pointer, dtype, NumPy view): see _array
        self.views: dict[Any, Any] = {}
        self.grad_buffers: dict[Any, _GradBuffer] = {}
        self.bucket_views: dict[Any, _BucketViews] = {}
        # the groups' steady records and the state snapshot they hold for
        self.steady: tuple[list[_SteadyGroup], Any] | None = None
        # id(group) -> (group, its state[p]["step"] tensor, shared by its parameters,
        # and that tensor's NumPy view)
        self.counters: dict[int, tuple[dict[str, Any], torch.Tensor, Any]] = {}
        # group index -> (its settings, the NumPy optimizer of those settings, the
        # group's values it was made from, or None when one of them is mutable)
        self.keras: dict[int, tuple[Any, Any, list[Any]]] = {}

    def counter(self, group: dict[str, Any]) -> torch.Tensor:
        """The 0-dim CPU float32 tensor that mirrors ``group["iterations"]`` as
        ``state[p]["step"]`` for every parameter of the group (as torch's optimizers
        keep it; one tensor per group, so a step updates it once)."""
        entry = self.counters.get(id(group))
        if entry is None or entry[0] is not group:
            value = float(group.get("iterations", 0))
            counter = torch.tensor(value, dtype=torch.float32)
            entry = (group, counter, counter.numpy())
            self.counters[id(group)] = entry
        return entry[1]

    def share_counters(
        self,
        groups: list[dict[str, Any]],
        state: Any,
        keras_for: KerasFor,
        saved: Mapping[int, tuple[int, tuple[float, ...]]],
    ) -> None:
        """Put each group's counter in the state of its parameters that have one; where
        parameters count their own steps, ``saved`` holds their loaded counts and
        scalars by ``id(p)``, and parameters with the same ones share tensors."""
        for index, group in enumerate(groups):
            keras = keras_for(group, index)
            if _counts.counts_per_parameter(keras):
                _counts.share(keras, group, state, saved)
                continue
            counter = self.counter(group)
            for p in group["params"]:
                slots = state.get(p)
                if slots:
                    slots["step"] = counter

    def _advance(self, plans: list[_Plan], state: Any, steady: bool = False) -> None:
        """Count the step: every group's ``iterations`` and scalars, and the counters
        of the parameters (a steady step writes its cohorts' tensors in place)."""
        held = None
        for plan in plans:
            plan.group["iterations"] = plan.t
            plan.group.update(plan.next_scalars)
            if plan.cohorts is not None and steady:
                for cohort, tensors in zip(plan.cohorts, plan.counts):
                    tensors.write(cohort.t, cohort.next_scalars)
                continue
            if plan.cohorts is not None:
                if held is None:
                    held = _counts.holders(state)
                names = tuple(plan.next_scalars)
                plan.counts = [
                    _counts.advance(state, plan.params, cohort, held, names)
                    for cohort in plan.cohorts
                ]
                continue
            self.counter(plan.group)  # made, if the group is new
            # written through its NumPy view: a torch op costs microseconds here
            self.counters[id(plan.group)][2][()] = float(plan.t)

    @property
    def steady_possible(self) -> bool:
        """Whether steps can take the steady path at all (see ``_steady``)."""
        return self.engine.name == "fused"

    def step(
        self,
        groups: list[dict[str, Any]],
        state: Any,
        keras_for: KerasFor,
        clipping: Clipping,
    ) -> None:
        """Apply one step to every parameter of ``groups`` that has a gradient;
        ``keras_for(group, index)`` is the NumPy optimizer of a group's hyperparameters,
        ``state`` the optimizer's per-parameter state."""
        if self._steady_step(groups, state, keras_for, clipping):
            return
        if torch.is_inference_mode_enabled():
            with outside_inference_mode():
                self._general_step(groups, state, keras_for, clipping)
            return
        self._general_step(groups, state, keras_for, clipping)

    def _general_step(
        self,
        groups: list[dict[str, Any]],
        state: Any,
        keras_for: KerasFor,
        clipping: Clipping,
    ) -> None:
        """The step through ``_plan``'s checks, (re)allocating what it needs."""
        plans = [
            self._plan(keras_for, i, group, state) for i, group in enumerate(groups)
        ]
        for index, plan in enumerate(plans):
            _check_slots(state, index, plan, self.torch_ops)
        for plan in plans:
            _state.allocate(state, plan.params, plan.names, self.torch_ops, plan.starts)
            if plan.cohorts is not None:
                continue  # counted when the step is done (_advance)
            counter = self.counter(plan.group)
            for p in plan.params:
                state[p]["step"] = counter

        buckets: list[tuple[_Plan, _Bucket]] = []
        others: list[tuple[_Plan, torch.Tensor, torch.Tensor]] = []
        order: list[tuple[torch.Tensor, _Bucket | None, int]] = []  # norm order
        dtensors = False
        # parameters that are views of one another go one by one, with torch operations
        shared = _state.sharing_memory([p for plan in plans for p in plan.params])
        for index, plan in enumerate(plans):
            by_kind: dict[tuple[int, torch.dtype], _Bucket] = {}
            coefficients = plan.coefficients_of()
            for p, g, c in zip(plan.params, plan.grads, coefficients):
                dtensors = dtensors or is_dtensor(g)
                if _state.uses_engine(p, self.torch_ops) and id(p) not in shared:
                    kind = (id(c), p.dtype)
                    bucket = by_kind.get(kind)
                    if bucket is None:
                        key = (index, len(by_kind), p.dtype)
                        bucket = by_kind[kind] = _Bucket(key, c)
                        buckets.append((plan, bucket))
                    bucket.tensors.append((p, g))
                    order.append((g, bucket, len(bucket.tensors) - 1))
                else:
                    others.append((plan, p, g, c))
                    order.append((g, None, 0))
        old_views, views = self.views, {}
        for plan, bucket in buckets:
            self._fill(state, plan, bucket, old_views, views)
        self.views = views
        used = {bucket.key for _, bucket in buckets}  # a cohort's that is gone: dropped
        self.grad_buffers = {k: v for k, v in self.grad_buffers.items() if k in used}

        distributed = dtensors or self.clipnorm_group is not LOCAL
        single = not distributed and not others and len(buckets) == 1

        def squares() -> list[float]:
            by_bucket = {id(b): self.engine.squares(b.grads) for _, b in buckets}
            local = [
                sum_of_squares(g) if b is None else by_bucket[id(b)][i]
                for g, b, i in order
            ]
            if not distributed:
                return local
            grads = [g for g, _, _ in order]
            return [total_squared_norm(grads, local, self.clipnorm_group)]

        # One engine call over one bucket clips by itself; otherwise the scale of the
        # global norm is applied to the gradients first.
        scale = 1.0 if single else clipping.scale(squares)
        engine_clipping = clipping if single else clipping.without_norm()
        for plan, bucket in buckets:
            grads = (
                bucket.grads if scale == 1.0 else scaled_gradients(bucket.grads, scale)
            )
            self.engine.step(
                plan.rule,
                bucket.coefficients,
                bucket.params,
                grads,
                bucket.slots,
                engine_clipping,
            )
        for plan, p, g, c in others:
            _torch_update(state, plan, p, g, c, scale, clipping.value)
        self._advance(plans, state)
        self.steady = None
        if not dtensors and not others and self.steady_possible:
            self._record_steady(state, plans, clipping)

    def own_gradient_buffers(
        self, groups: list[dict[str, Any]]
    ) -> list[torch.Tensor] | None:
        """The gradient buffers whose views are every gradient of ``groups``, as the
        last (steady) step recorded them (``flatten_params``): zeroing them is
        ``zero_grad(set_to_none=False)``. None when any gradient is another tensor."""
        if self.steady is None or len(self.steady[0]) != len(groups):
            return None
        buffers = []
        for group, steady in zip(groups, self.steady[0]):
            grads = [p.grad for p in group["params"]]
            record = steady.parts[0].record if len(steady.parts) == 1 else None
            if record is not None and record.own is not None and record.own.hold(grads):
                if any(map(_REQUIRES_GRAD, record.own.views)):
                    return None  # torch's zero_grad turns that off first
                buffers.append(record.own.buffer)
            elif grads.count(None) != len(grads):
                return None
        return buffers

    # ---- the steady path -----------------------------------------------------------
    def _record_steady(
        self, state: Any, plans: list[_Plan], clipping: Clipping
    ) -> None:
        groups = []
        for index, plan in enumerate(plans):
            per_parameter = plan.cohorts is not None
            if per_parameter and len(plan.cohorts) > 1:
                steady = _cohort_records(state, plan, clipping.clips)
                if steady is None:
                    return
                groups.append(steady)
                continue
            buffers = [b for key, b in self.grad_buffers.items() if key[0] == index]
            record = steady_record(
                plan.rule,
                plan.coefficients_of()[0] if plan.params else plan.coefficients,
                plan.names,
                plan.group["params"],
                plan.params,
                state,
                clipping.clips,
                buffers[0].buffer if len(buffers) == 1 else None,
            )
            if record is None:
                return
            tensors = plan.counts[0] if plan.counts else None
            groups.append(_SteadyGroup(per_parameter, [_SteadyPart(record, tensors)]))
        self.steady = (groups, state_snapshot(state))

    def _steady_step(
        self,
        groups: list[dict[str, Any]],
        state: Any,
        keras_for: KerasFor,
        clipping: Clipping,
    ) -> bool:
        """The step through the groups' ``Steady`` records, when they still hold; False
        (nothing changed) otherwise."""
        if self.steady is None or not self.steady_possible:
            return False
        records, snapshot = self.steady
        if (
            len(records) != len(groups)
            or not same_snapshot(state_snapshot(state), snapshot)
            or any(
                part.record.step is not None and part.record.step.clip != clipping.clips
                for r in records
                for part in r.parts
            )
        ):
            return False
        tables = []
        parts: list[list[tuple[_SteadyPart, Any]]] = []  # each group's, with tables
        for group, steady in zip(groups, records):
            params = group["params"]
            if steady.stepped is not None and steady.stepped != [
                p.grad is not None for p in params
            ]:
                return False
            group_parts = []
            for part in steady.parts:
                members = params if part.params is None else part.params
                if not part.record.holds(members):
                    return False
                table = part.record.grad_addresses(members)
                if table is None:
                    return False
                tables.append(table)
                group_parts.append((part, table))
            parts.append(group_parts)
        plans = [_schedule(keras_for, i, group) for i, group in enumerate(groups)]
        steps = []  # (coefficients, record) of every part, in the order of ``tables``
        for plan, steady in zip(plans, records):
            if steady.per_parameter != _counts.counts_per_parameter(plan.keras):
                return False
            if not all(
                part.record.runs(plan.rule, plan.names) for part in steady.parts
            ):
                return False  # another rule or other slots: the general path
            if steady.per_parameter:
                plan.cohorts, plan.counts = [], []
            for part in steady.parts:
                if part.tensors is None:
                    steps.append((plan.coefficients, part.record))
                    continue
                cohort = _counts.cohort(plan.keras, *part.tensors.read())
                plan.cohorts.append(cohort)
                plan.counts.append(part.tensors)
                steps.append((cohort.coefficients, part.record))

        def squares() -> list[float]:
            local: list[float] = []
            for group_parts in parts:
                in_order: dict[int, float] = {}
                for part, table in group_parts:
                    if part.record.step is None:
                        continue
                    sums = part.record.step.squares(table)
                    if part.positions is None:
                        local.extend(sums)
                    else:
                        in_order.update(zip(part.positions, sums))
                local.extend(in_order[k] for k in sorted(in_order))
            return [sum_over_group(total(local), self.clipnorm_group)]

        scale = clipping.scale(squares)
        for (coefficients, record), table in zip(steps, tables):
            if record.step is not None:
                record.step(coefficients, table, scale, clipping.value)
        self._advance(plans, state, steady=True)
        return True

    # ---- the general path ----------------------------------------------------------
    def _plan(
        self, keras_for: KerasFor, index: int, group: dict[str, Any], state: Any
    ) -> _Plan:
        """The group's schedule and its checked parameters that have gradients (and
        their cohorts, where each counts its own steps)."""
        plan = _schedule(keras_for, index, group)
        plan.starts = plan.keras.slot_starts()
        plan.params, plan.grads = self._with_grads(index, group)
        if _counts.counts_per_parameter(plan.keras):
            plan.cohorts = _counts.cohorts_of(
                plan.keras, group, plan.params, state, index
            )
        return plan

    def _with_grads(
        self, index: int, group: dict[str, Any]
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """The group's parameters that have a gradient, and those gradients (checked;
        cast to the parameter's dtype for the NumPy engines, which compute in it).
        A group may span devices: the CPU float32/float64 tensors go to the engine,
        the others to torch operations on their own device, and clipnorm's norm covers
        all of them."""
        params, grads = [], []
        for i, p in enumerate(group["params"]):
            g = p.grad
            if g is None:
                continue
            if g.is_sparse or g.layout != torch.strided:
                raise RuntimeError(
                    f"{self.owner} does not support sparse gradients (param group "
                    f"{index}, parameter {i} has a {g.layout} gradient); use dense "
                    "gradients, e.g. nn.Embedding(..., sparse=False)"
                )
            if g.shape != p.shape or g.device != p.device:
                raise ValueError(
                    f"param group {index}, parameter {i}: gradient of shape "
                    f"{tuple(g.shape)} on {g.device} for a parameter of shape "
                    f"{tuple(p.shape)} on {p.device}; they must match"
                )
            if g.dtype != p.dtype and _state.uses_engine(p, self.torch_ops):
                g = g.to(p.dtype)  # p.grad_dtype=None allows any; as the torch path
            params.append(p)
            grads.append(g)
        return params, grads

    def _fill(
        self,
        state: Any,
        plan: _Plan,
        bucket: _Bucket,
        old: dict[Any, Any],
        new: dict[Any, Any],
    ) -> None:
        """The NumPy views of a bucket; with ``flatten_params``, gradients gathered into one
        buffer when the parameters are one buffer and the gradients are not."""
        params = [p for p, _ in bucket.tensors]
        cached_views = self.bucket_views.get(bucket.key)
        if cached_views is not None and _unchanged(
            cached_views, params, state, plan.names
        ):
            bucket.params, bucket.slots = (
                cached_views.param_arrays,
                cached_views.slot_arrays,
            )
            new.update(cached_views.storage)  # keep the storage views alive
        else:
            before = set(new)
            for p in params:
                slots = state[p]
                bucket.params.append(numpy_view(p, old, new))
                bucket.slots.append(
                    tuple(numpy_view(slots[n], old, new) for n in plan.names)
                )
            self.bucket_views[bucket.key] = _BucketViews(
                tensors=params,
                pointers=[p.data_ptr() for p in params],
                slots=[
                    tuple(
                        (slot, slot.data_ptr())
                        for slot in map(state[p].get, plan.names)
                    )
                    for p in params
                ],
                param_arrays=bucket.params,
                slot_arrays=bucket.slots,
                storage={k: new[k] for k in set(new) - before},
            )
        if not self.flatten_params or len(bucket.tensors) < 2:
            bucket.grads = [local_tensor(g).detach().numpy() for _, g in bucket.tensors]
            return
        cached = self.grad_buffers.get(bucket.key)
        if (
            cached is not None
            and same_items([g for _, g in bucket.tensors], cached.views)
            and [v.data_ptr() for v in cached.views] == cached.pointers
        ):
            bucket.grads = cached.arrays  # backward accumulated into our views
            return
        grads = [g.detach() for _, g in bucket.tensors]
        if contiguous_span(bucket.params) is None:
            bucket.grads = [g.numpy() for g in grads]
            return
        total = sum(g.numel() for g in grads)
        buffer = None if cached is None else cached.buffer
        if (
            buffer is None
            or buffer.numel() != total
            or any(shares_storage(g, buffer) for g in grads)
        ):
            buffer = torch.empty(total, dtype=bucket.key[2])
        torch.cat([g.reshape(-1) for g in grads], out=buffer)
        views = _state.flat_views(buffer, grads)
        whole = buffer.numpy()
        arrays, start = [], 0
        for (p, _), view in zip(bucket.tensors, views):
            p.grad = (
                view  # a backward with set_to_none=False accumulates here, in place
            )
            arrays.append(whole[start : start + view.numel()].reshape(view.shape))
            start += view.numel()
        self.grad_buffers[bucket.key] = _GradBuffer(
            buffer, views, arrays, [v.data_ptr() for v in views]
        )
        bucket.grads = arrays


def _cohort_records(state: Any, plan: _Plan, clip: bool) -> _SteadyGroup | None:
    """The steady records of a group with several cohorts: one per cohort, each over
    its members as a group of their own (None when one does not qualify)."""
    parts = []
    for cohort, tensors in zip(plan.cohorts or (), plan.counts):
        members = [plan.params[i] for i in cohort.members]
        record = steady_record(
            plan.rule, cohort.coefficients, plan.names, members, members, state, clip
        )
        if record is None:
            return None
        parts.append(_SteadyPart(record, tensors, members, list(cohort.members)))
    stepped = [p.grad is not None for p in plan.group["params"]]
    return _SteadyGroup(True, parts, stepped)


@contextlib.contextmanager
def outside_inference_mode() -> Iterator[None]:
    """Inference mode off (gradients still off) while the general step runs: the slots,
    counters and gradient buffers it makes are ordinary tensors, which later steps and
    backward passes outside inference mode may update in place (as the ones torch.optim
    keeps; an inference tensor refuses that)."""
    with torch.inference_mode(False), torch.no_grad():
        yield


def _schedule(keras_for: KerasFor, index: int, group: dict[str, Any]) -> _Plan:
    """The group's step number, coefficients and next host scalars (checked)."""
    keras = keras_for(group, index)
    where = f"param group {index}: "
    t = check_iterations(group.get("iterations", 0), where) + 1
    scalars = {
        k: check_scalar(k, group.get(k, v), where)
        for k, v in keras.scalar_state.items()
    }
    coefficients, next_scalars = keras.step_coefficients(t, scalars)
    return _Plan(
        group=group,
        t=t,
        rule=keras.rule,
        coefficients=coefficients,
        next_scalars=next_scalars,
        names=keras.slot_names(),
        keras=keras,
    )


def _check_slots(state: Any, index: int, plan: _Plan, torch_ops: bool) -> None:
    """``ValueError`` unless every slot the step will use that ``state`` already holds
    for the group's parameters with a gradient is a dense float tensor of the
    parameter's shape and device, float32 or float64 where a NumPy engine reads it
    (``state[p][name] = x`` may have put anything there; the engines read each slot as
    the parameter's elements)."""
    for i, p in enumerate(plan.group["params"]):
        slots = state.get(p) if p.grad is not None else None
        if not slots:
            continue
        engine = _state.uses_engine(p, torch_ops)
        for name in plan.names:
            value = slots.get(name)
            if value is None or (
                isinstance(value, torch.Tensor)
                and value.layout == torch.strided
                and value.shape == p.shape
                and value.device == p.device
                and value.is_floating_point()
                and (not engine or value.dtype in _state.ENGINE_DTYPES)
            ):
                continue
            found = (
                f"of shape {tuple(value.shape)}, {value.dtype}, {value.layout} on "
                f"{value.device}"
                if isinstance(value, torch.Tensor)
                else f"a {type(value).__name__}"
            )
            raise ValueError(
                f"param group {index}, parameter {i}: state[p][{name!r}] is {found}; "
                f"expected a dense float tensor of shape {tuple(p.shape)} on "
                f"{p.device}, like the parameter's {_state.state_dtype(p)} (assign "
                "one, or delete the slot to restart it)"
            )


def _unchanged(
    cached: _BucketViews,
    params: list[torch.Tensor],
    state: Any,
    names: tuple[str, ...],
) -> bool:
    """Whether a bucket holds the same parameters and slot tensors, with the same
    storage, as when its NumPy views were made."""
    if len(cached.tensors) != len(params):
        return False
    for p, q, pointer, slots in zip(
        params, cached.tensors, cached.pointers, cached.slots
    ):
        if p is not q or p.data_ptr() != pointer or len(slots) != len(names):
            return False
        current = state[p]
        for name, (slot, slot_pointer) in zip(names, slots):
            if current.get(name) is not slot or slot.data_ptr() != slot_pointer:
                return False
    return True


def _torch_update(
    state: Any,
    plan: _Plan,
    p: torch.Tensor,
    g: torch.Tensor,
    coefficients: Any,
    scale: float,
    clipvalue: float,
) -> None:
    """The rule with torch operations, on one tensor (float32 math for 16-bit floats)."""
    param = local_tensor(p).detach()
    compute = _state.state_dtype(param)
    grad = local_tensor(g).detach().to(compute)
    if scale != 1.0 or not math.isinf(clipvalue):
        grad = torch_clip_element(grad, scale, clipvalue)
    slots = [local_tensor(state[p][n]) for n in plan.names]
    new = torch_rule(plan.rule)(param.to(compute), grad, *slots, coefficients)
    param.copy_(new[0])
    for slot, value in zip(slots, new[1:]):
        slot.copy_(value)
