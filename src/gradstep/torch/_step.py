"""One step of a gradstep.torch optimizer: checks, clipping, then the rule on every tensor.

Plain float32/float64 CPU tensors (and the CPU shards of DTensors) are handed to a NumPy
engine as zero-copy views (``Tensor.numpy()``), one engine call per param group and dtype;
everything else runs the same rule with torch operations, in float32 for float16/bfloat16.
Everything that can be wrong is checked for all groups before any tensor or counter
changes. Once a step has run this general path with every tensor on the fused engine,
the next ones take the steady path (``_steady``) for as long as nothing changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..kernels.flat import contiguous_span
from ..kernels.fused import clips
from ..optimizers._clip import norm_scale, total
from . import _state
from ._distributed import (
    LOCAL,
    is_dtensor,
    local_tensor,
    sum_over_group,
    total_squared_norm,
)
from ._ops import torch_clip_element, torch_rule
from ._steady import same_snapshot, state_snapshot, steady_record

if TYPE_CHECKING:
    from ._optimizer import KerasTorchOptimizer

__all__ = ["run_step"]


@dataclass
class _Bucket:
    """The tensors of one engine call: same group (coefficients) and dtype."""

    key: tuple[int, torch.dtype]
    tensors: list[tuple[torch.Tensor, torch.Tensor]] = field(default_factory=list)
    params: list[np.ndarray] = field(default_factory=list)
    grads: list[np.ndarray] = field(default_factory=list)
    slots: list[tuple[np.ndarray, ...]] = field(default_factory=list)


@dataclass
class _Plan:
    """What one param group does in this step, computed before anything changes."""

    group: dict[str, Any]
    t: int
    rule: Any
    coefficients: Any
    next_scalars: dict[str, float]
    names: tuple[str, ...]
    params: list[torch.Tensor] = field(default_factory=list)
    grads: list[torch.Tensor] = field(default_factory=list)


def run_step(opt: KerasTorchOptimizer) -> None:
    """Apply one step to every parameter of ``opt`` that has a gradient."""
    if _steady_step(opt):
        return
    plans = [_plan(opt, i, group) for i, group in enumerate(opt.param_groups)]
    for plan in plans:
        _state.allocate(opt.state, plan.params, plan.names, opt._torch_ops)

    buckets: list[tuple[_Plan, _Bucket]] = []
    others: list[tuple[_Plan, torch.Tensor, torch.Tensor]] = []
    order: list[tuple[torch.Tensor, _Bucket | None, int]] = []  # gradients, norm order
    dtensors = False
    for index, plan in enumerate(plans):
        by_dtype: dict[torch.dtype, _Bucket] = {}
        for p, g in zip(plan.params, plan.grads):
            dtensors = dtensors or is_dtensor(g)
            if _state.uses_engine(p, opt._torch_ops):
                bucket = by_dtype.get(p.dtype)
                if bucket is None:
                    bucket = by_dtype[p.dtype] = _Bucket((index, p.dtype))
                    buckets.append((plan, bucket))
                bucket.tensors.append((p, g))
                order.append((g, bucket, len(bucket.tensors) - 1))
            else:
                others.append((plan, p, g))
                order.append((g, None, 0))
    old_views, views = opt._views, {}
    for plan, bucket in buckets:
        _fill(opt, plan, bucket, old_views, views)
    opt._views = views

    clipnorm = float(opt.clipnorm) if opt.clipnorm else 0.0
    clipvalue = float(opt.clipvalue) if opt.clipvalue else math.inf
    distributed = dtensors or opt._clipnorm_group is not LOCAL
    single = not distributed and not others and len(buckets) == 1
    scale = 1.0
    if clipnorm > 0 and not single:
        by_bucket = {id(b): opt._engine.squares(b.grads) for _, b in buckets}
        squares = [
            _torch_square(g) if b is None else by_bucket[id(b)][i] for g, b, i in order
        ]
        if distributed:
            summed = total_squared_norm(
                [g for g, _, _ in order], squares, opt._clipnorm_group
            )
        else:
            summed = total(squares)
        scale = norm_scale(math.sqrt(summed), clipnorm)

    for plan, bucket in buckets:
        grads = bucket.grads if scale == 1.0 else _scaled(bucket.grads, scale)
        opt._engine.step(
            plan.rule,
            plan.coefficients,
            bucket.params,
            grads,
            bucket.slots,
            clipnorm if single else 0.0,
            clipvalue,
        )
    for plan, p, g in others:
        _torch_update(opt, plan, p, g, scale, clipvalue)
    _advance(plans)
    opt._steady = None
    if not dtensors and not others and _steady_possible(opt):
        _record_steady(opt, plans)


def _advance(plans: list[_Plan]) -> None:
    for plan in plans:
        plan.group["iterations"] = plan.t
        plan.group.update(plan.next_scalars)


def _steady_possible(opt: KerasTorchOptimizer) -> bool:
    """Whether ``opt`` can take steady steps at all (see ``_steady``)."""
    return opt._engine.name == "fused"


def _clips(opt: KerasTorchOptimizer) -> bool:
    return clips(float(opt.clipnorm or 0.0), float(opt.clipvalue or math.inf))


def _record_steady(opt: KerasTorchOptimizer, plans: list[_Plan]) -> None:
    records = []
    for plan in plans:
        record = steady_record(
            plan.rule,
            plan.coefficients,
            plan.names,
            plan.group["params"],
            plan.params,
            opt.state,
            _clips(opt),
        )
        if record is None:
            return
        records.append(record)
    opt._steady = (records, state_snapshot(opt.state))


def _steady_step(opt: KerasTorchOptimizer) -> bool:
    """The step through the groups' ``Steady`` records, when they still hold; False
    (nothing changed) otherwise."""
    if opt._steady is None or not _steady_possible(opt):
        return False
    records, snapshot = opt._steady
    groups = opt.param_groups
    clip = _clips(opt)
    if (
        len(records) != len(groups)
        or not same_snapshot(state_snapshot(opt.state), snapshot)
        or any(r.step is not None and r.step.clip != clip for r in records)
    ):
        return False
    tables = []
    for group, record in zip(groups, records):
        params = group["params"]
        if not record.holds(params):
            return False
        table = record.grad_addresses(params)
        if table is None:
            return False
        tables.append(table)
    plans = [_schedule(opt, i, group) for i, group in enumerate(groups)]
    scale = 1.0
    if opt.clipnorm:
        squares = []
        for record, table in zip(records, tables):
            if record.step is not None:
                squares.extend(record.step.squares(table))
        summed = sum_over_group(total(squares), opt._clipnorm_group)
        scale = norm_scale(math.sqrt(summed), float(opt.clipnorm))
    clipvalue = float(opt.clipvalue) if opt.clipvalue else math.inf
    for plan, record, table in zip(plans, records, tables):
        if record.step is not None:
            record.step(plan.coefficients, table, scale, clipvalue)
    _advance(plans)
    return True


def _scaled(grads: list[np.ndarray], scale: float) -> list[np.ndarray]:
    """``g * scale`` for every gradient (new arrays: the gradients are not modified),
    keeping gradients that form one buffer in one buffer."""
    span = contiguous_span(grads)
    if span is None:
        return [g * scale for g in grads]
    flat = span * scale
    scaled, start = [], 0
    for g in grads:
        scaled.append(flat[start : start + g.size].reshape(g.shape))
        start += g.size
    return scaled


def _plan(opt: KerasTorchOptimizer, index: int, group: dict[str, Any]) -> _Plan:
    """The group's schedule and its checked parameters that have gradients."""
    plan = _schedule(opt, index, group)
    plan.params, plan.grads = _with_grads(opt, index, group)
    return plan


def _schedule(opt: KerasTorchOptimizer, index: int, group: dict[str, Any]) -> _Plan:
    """The group's step number, coefficients and next host scalars (checked)."""
    keras = opt.keras_for(group, index)
    iterations = group.get("iterations", 0)
    if (
        isinstance(iterations, bool)
        or not isinstance(iterations, int)
        or iterations < 0
    ):
        raise ValueError(
            f"param group {index}: 'iterations' must be an int >= 0, got {iterations!r}"
        )
    keras.iterations = iterations
    t = iterations + 1
    scalars = {k: float(group.get(k, v)) for k, v in keras.scalar_state.items()}
    return _Plan(
        group=group,
        t=t,
        rule=keras.rule,
        coefficients=keras.coefficients(t, keras.decayed_lr(), scalars),
        next_scalars=keras.next_scalars(t, scalars),
        names=keras.slot_names(),
    )


def _with_grads(
    opt: KerasTorchOptimizer, index: int, group: dict[str, Any]
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """The group's parameters that have a gradient, and those gradients (checked)."""
    params, grads, device = [], [], None
    for i, p in enumerate(group["params"]):
        if device is None:
            device = p.device
        elif p.device != device:
            raise ValueError(
                f"param group {index} has parameters on {device} and on {p.device} "
                f"(parameter {i}); put all parameters of a group on one device"
            )
        g = p.grad
        if g is None:
            continue
        if g.is_sparse or g.layout != torch.strided:
            raise RuntimeError(
                f"{type(opt).__name__} does not support sparse gradients (param group "
                f"{index}, parameter {i} has a {g.layout} gradient); use dense "
                "gradients, e.g. nn.Embedding(..., sparse=False)"
            )
        if g.shape != p.shape or g.device != p.device:
            raise ValueError(
                f"param group {index}, parameter {i}: gradient of shape "
                f"{tuple(g.shape)} on {g.device} for a parameter of shape "
                f"{tuple(p.shape)} on {p.device}; they must match"
            )
        params.append(p)
        grads.append(g)
    return params, grads


def _fill(
    opt: KerasTorchOptimizer,
    plan: _Plan,
    bucket: _Bucket,
    old: dict[Any, Any],
    new: dict[Any, Any],
) -> None:
    """The NumPy views of a bucket; with ``flatten_params``, gradients gathered into one
    buffer when the parameters are one buffer and the gradients are not."""
    params = [p for p, _ in bucket.tensors]
    cached_views = opt._bucket_views.get(bucket.key)
    if cached_views is not None and _unchanged(
        cached_views, params, opt.state, plan.names
    ):
        bucket.params, bucket.slots = cached_views[3], cached_views[4]
        for t, entry in cached_views[5].items():  # keep the storage views alive
            new[t] = entry
    else:
        before = set(new)
        for p in params:
            slots = opt.state[p]
            bucket.params.append(_array(p, old, new))
            bucket.slots.append(tuple(_array(slots[n], old, new) for n in plan.names))
        opt._bucket_views[bucket.key] = (
            params,
            [p.data_ptr() for p in params],
            [
                tuple(
                    (slot, slot.data_ptr())
                    for slot in map(opt.state[p].get, plan.names)
                )
                for p in params
            ],
            bucket.params,
            bucket.slots,
            {k: new[k] for k in set(new) - before},
        )
    if not opt._flatten_params or len(bucket.tensors) < 2:
        bucket.grads = [local_tensor(g).detach().numpy() for _, g in bucket.tensors]
        return
    cached = opt._grad_buffers.get(bucket.key)
    if cached is not None and all(
        g is v for (_, g), v in zip(bucket.tensors, cached[1])
    ):
        bucket.grads = cached[2]  # backward accumulated into our views
        return
    grads = [g.detach() for _, g in bucket.tensors]
    if contiguous_span(bucket.params) is None:
        bucket.grads = [g.numpy() for g in grads]
        return
    total = sum(g.numel() for g in grads)
    buffer = None if cached is None else cached[0]
    if (
        buffer is None
        or buffer.numel() != total
        or any(_shares(g, buffer) for g in grads)
    ):
        buffer = torch.empty(total, dtype=bucket.key[1])
    torch.cat([g.reshape(-1) for g in grads], out=buffer)
    views = _state.flat_views(buffer, grads)
    whole = buffer.numpy()
    arrays, start = [], 0
    for (p, _), view in zip(bucket.tensors, views):
        p.grad = view  # a backward with set_to_none=False accumulates here, in place
        arrays.append(whole[start : start + view.numel()].reshape(view.shape))
        start += view.numel()
    opt._grad_buffers[bucket.key] = (buffer, views, arrays)
    bucket.grads = arrays


def _unchanged(
    cached: tuple[Any, ...],
    params: list[torch.Tensor],
    state: Any,
    names: tuple[str, ...],
) -> bool:
    """Whether a bucket holds the same parameters and slot tensors, with the same
    storage, as when its NumPy views were made."""
    old_params, pointers, old_slots = cached[0], cached[1], cached[2]
    if len(old_params) != len(params):
        return False
    for p, q, pointer, slots in zip(params, old_params, pointers, old_slots):
        if p is not q or p.data_ptr() != pointer:
            return False
        current = state[p]
        for name, (slot, slot_pointer) in zip(names, slots):
            if current.get(name) is not slot or slot.data_ptr() != slot_pointer:
                return False
    return True


def _shares(t: torch.Tensor, buffer: torch.Tensor) -> bool:
    return t.untyped_storage().data_ptr() == buffer.untyped_storage().data_ptr()


def _array(t: torch.Tensor, old: dict[Any, Any], new: dict[Any, Any]) -> np.ndarray:
    """A NumPy view of ``t``'s local data, cached across steps while ``t`` keeps its
    storage, shape and dtype (gradients are never cached: they change every step).

    Contiguous tensors are viewed through one NumPy array per storage, so tensors laid end
    to end in one storage (flat state, flattened parameters) give arrays that
    ``contiguous_span`` joins into one: the fused engine then makes one kernel call."""
    if is_dtensor(t):
        return t.to_local().detach().numpy()
    key = id(t)
    entry = old.get(key)
    pointer = t.data_ptr()
    if (
        entry is None
        or entry[0] is not t
        or entry[1] != pointer
        or entry[2] is not t.dtype
        or entry[3].shape != t.shape
    ):
        entry = (t, pointer, t.dtype, _storage_view(t, old, new))
    new[key] = entry
    return entry[3]


def _storage_view(
    t: torch.Tensor, old: dict[Any, Any], new: dict[Any, Any]
) -> np.ndarray:
    if not t.is_contiguous() or t.numel() == 0:
        return t.detach().numpy()
    storage = t.untyped_storage()
    key = ("storage", storage.data_ptr(), t.dtype)
    entry = new.get(key) or old.get(key)
    if entry is None or entry[1] != storage.nbytes():
        whole = torch.empty(0, dtype=t.dtype)
        whole.set_(storage, 0, (storage.nbytes() // t.element_size(),))
        entry = (whole, storage.nbytes(), whole.numpy())
    new[key] = entry
    start = t.storage_offset()
    return entry[2][start : start + t.numel()].reshape(t.shape)


def _torch_square(g: torch.Tensor) -> float:
    """The float64 sum of squares of a gradient's local part, with torch operations
    (for the tensors no NumPy engine sees)."""
    flat = local_tensor(g).detach().reshape(-1).to(torch.float64)
    return float(torch.dot(flat, flat).item())


def _torch_update(
    opt: KerasTorchOptimizer,
    plan: _Plan,
    p: torch.Tensor,
    g: torch.Tensor,
    scale: float,
    clipvalue: float,
) -> None:
    """The rule with torch operations, on one tensor (float32 math for 16-bit floats)."""
    param = local_tensor(p).detach()
    compute = _state.state_dtype(param)
    grad = local_tensor(g).detach().to(compute)
    if scale != 1.0 or not math.isinf(clipvalue):
        grad = torch_clip_element(grad, scale, clipvalue)
    slots = [local_tensor(opt.state[p][n]) for n in plan.names]
    new = torch_rule(plan.rule)(param.to(compute), grad, *slots, plan.coefficients)
    param.copy_(new[0])
    for slot, value in zip(slots, new[1:]):
        slot.copy_(value)
