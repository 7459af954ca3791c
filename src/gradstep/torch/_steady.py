"""The steady step of gradstep.torch: the parameters of the last step again, each with an
ordinary gradient.

A training loop steps the same parameters again and again, with new gradient tensors each
time (``zero_grad()`` sets them to None). After a step has gone through the general path
(``_step.run_step``) with every parameter of every group on the fused engine, each group
keeps a ``Steady`` record: its parameters and their data addresses, its slot tensors, and
the multi-tensor kernel bound to their address tables. The next step then reads only each
gradient's address (``data_ptr()``, no NumPy views) and a few of its attributes: about a
microsecond per tensor instead of eight, and one kernel call per group (two with
clipnorm: the per-tensor sums of squares first, the same values as the fused engine's,
summed over the ranks of ``clipnorm_group`` under ZeroRedundancyOptimizer).

With ``flatten_params=True`` the general step leaves each gradient as a view of one
buffer that the optimizer owns (``p.grad`` points there, and a backward after
``zero_grad(set_to_none=False)`` accumulates into it). While those very views come back
at their addresses, the steady step checks only that (``p.grad is view``, one address
each) and reuses the recorded address table: the checks that make a user's gradient
safe to read by address are not needed for memory the optimizer holds.

Parameters without a gradient (frozen ones, say) are skipped as torch does, and as long
as the same ones have none, steps stay steady. Anything else sends the step to the
general path, which checks it and raises the error, if there is one: other parameters or
slot tensors than recorded, a parameter or slot whose storage moved, gradients on other
parameters than at the recorded step, or a gradient that is sparse, non-contiguous, a
DTensor, or of another shape, dtype or device.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import compress
from typing import Any

import numpy as np
import torch

from ..kernels._multi_tensor import same_items
from ..kernels.fused import AddressedStep, addressed_step

__all__ = ["OwnGradients", "Steady", "same_snapshot", "state_snapshot", "steady_record"]

_NUMPY_DTYPES = {
    torch.float32: np.dtype(np.float32),
    torch.float64: np.dtype(np.float64),
}
# What a gradient must show to be read by address: (layout, dtype, on the CPU, shape).
_GRAD_FACTS = operator.attrgetter("layout", "dtype", "is_cpu", "shape")
_data_ptr = torch.Tensor.data_ptr
_is_contiguous = torch.Tensor.is_contiguous


def state_snapshot(state: Mapping[Any, Any]) -> tuple[list[Any], list[Any]]:
    """The keys and values of ``optimizer.state`` (read without hashing tensors, which
    costs torch a Python call each): a step that finds other objects there, e.g. after
    ``state[p] = {...}``, leaves the steady path."""
    return list(state.keys()), list(state.values())


def same_snapshot(
    a: tuple[list[Any], list[Any]], b: tuple[list[Any], list[Any]]
) -> bool:
    return same_items(a[0], b[0]) and same_items(a[1], b[1])


@dataclass
class OwnGradients:
    """The gradients of a group as views of the optimizer's own buffer: ``grads`` as
    the record found them (None where a parameter had none), the views' addresses,
    and the address table of the stepped ones (the same numbers)."""

    buffer: torch.Tensor
    grads: list[torch.Tensor | None]
    views: list[torch.Tensor]
    pointers: list[int]
    table: np.ndarray

    def hold(self, grads: list[torch.Tensor | None]) -> bool:
        return (
            same_items(grads, self.grads)
            and list(map(_data_ptr, self.views)) == self.pointers
        )


@dataclass
class Steady:
    """One param group as the last step left it (see the module docstring)."""

    params: list[torch.Tensor]
    stepped: list[bool] | None
    active: list[torch.Tensor]
    pointers: list[int]
    states: list[dict[str, Any]]
    names: tuple[str, ...]
    slots: list[Any]
    slot_pointers: list[int]
    grad_facts: list[tuple[Any, ...]]
    step: AddressedStep | None  # None: no parameter of the group has a gradient
    rule: Any = None  # the rule ``step`` runs
    own: OwnGradients | None = None  # flatten_params: gradients in our buffer

    def runs(self, rule: Any, names: tuple[str, ...]) -> bool:
        """Whether the recorded kernel is the step of ``rule`` over slots ``names``
        (a group's flags or knobs, e.g. RMSprop's ``centered``, may choose another
        rule and other slots between steps)."""
        if self.step is None:
            return True
        return (self.rule is rule or self.rule == rule) and self.names == names

    def holds(self, params: Sequence[torch.Tensor]) -> bool:
        """Whether ``params`` are the recorded tensors, the stepped ones with the
        recorded slot tensors, all at the recorded addresses (the caller checks that
        ``optimizer.state`` still holds the recorded per-parameter dicts)."""
        if not (
            same_items(params, self.params)
            and list(map(_data_ptr, self.active)) == self.pointers
        ):
            return False
        if len(self.names) == 1:
            slots = list(map(operator.methodcaller("get", self.names[0]), self.states))
        else:
            slots = [d.get(n) for d in self.states for n in self.names]
        return (
            same_items(slots, self.slots)
            and list(map(_data_ptr, self.slots)) == self.slot_pointers
        )

    def grad_addresses(self, params: Sequence[torch.Tensor]) -> np.ndarray | None:
        """The addresses of the stepped parameters' gradients, or None unless exactly
        those have gradients and every one is a plain contiguous CPU tensor of its
        parameter's shape and dtype."""
        grads = [p.grad for p in params]
        if self.own is not None and self.own.hold(grads):
            return self.own.table
        if self.stepped is not None:
            if [g is not None for g in grads] != self.stepped:
                return None
            grads = list(compress(grads, self.stepped))
        if (
            list(map(type, grads)).count(torch.Tensor) != len(grads)
            or list(map(_GRAD_FACTS, grads)) != self.grad_facts
            or not all(map(_is_contiguous, grads))
        ):
            return None
        return np.fromiter(map(_data_ptr, grads), np.int64, len(grads))


def steady_record(
    rule: Any,
    coefficients: Any,
    names: tuple[str, ...],
    group_params: list[torch.Tensor],
    params: list[torch.Tensor],
    state: Any,
    clip: bool,
    grad_buffer: torch.Tensor | None = None,
) -> Steady | None:
    """The record of a group whose parameters ``params`` (those of ``group_params``
    that had a gradient, every one stepped by the fused engine) just took a step, for
    steps that clip or not (``clip``), with ``grad_buffer`` the buffer its gradients
    were gathered into (``flatten_params``), if any; None when they do not qualify:
    not one dtype, not all contiguous, or a rule numba cannot compile."""
    stepped = None
    if len(params) != len(group_params):
        stepped = [p.grad is not None for p in group_params]
    if not params:  # a frozen group: nothing to step while none has a gradient
        return Steady(
            params=list(group_params),
            stepped=stepped,
            active=[],
            pointers=[],
            states=[],
            names=names,
            slots=[],
            slot_pointers=[],
            grad_facts=[],
            step=None,
        )
    dtype = params[0].dtype
    states = [state[p] for p in params]
    slots = [d.get(n) for d in states for n in names]
    tensors = [*params, *slots]
    if any(
        type(t) not in (torch.Tensor, torch.nn.Parameter)
        or t.dtype is not dtype
        or not t.is_cpu
        or not t.is_contiguous()
        for t in tensors
    ):
        return None
    numpy_dtype = _NUMPY_DTYPES.get(dtype)
    if numpy_dtype is None:
        return None
    pointers = [p.data_ptr() for p in params]
    step = addressed_step(
        rule,
        coefficients,
        numpy_dtype,
        [p.numel() for p in params],
        pointers,
        [[d[n].data_ptr() for d in states] for n in names],
        clip,
    )
    if step is None:
        return None
    return Steady(
        params=list(group_params),
        stepped=stepped,
        active=list(params),
        pointers=pointers,
        states=states,
        names=names,
        slots=slots,
        slot_pointers=[t.data_ptr() for t in slots],
        grad_facts=[(torch.strided, dtype, True, p.shape) for p in params],
        step=step,
        rule=rule,
        own=_own_gradients(grad_buffer, group_params, params),
    )


def _own_gradients(
    buffer: torch.Tensor | None,
    group_params: list[torch.Tensor],
    params: list[torch.Tensor],
) -> OwnGradients | None:
    """The gradients of ``params`` as views of ``buffer``, if every one is one."""
    if buffer is None:
        return None
    views = [p.grad for p in params]
    storage = buffer.untyped_storage().data_ptr()
    if not all(
        type(g) is torch.Tensor and g.untyped_storage().data_ptr() == storage
        for g in views
    ):
        return None
    pointers = [g.data_ptr() for g in views]
    return OwnGradients(
        buffer=buffer,
        grads=[p.grad for p in group_params],
        views=views,
        pointers=pointers,
        table=np.array(pointers, dtype=np.int64),
    )
