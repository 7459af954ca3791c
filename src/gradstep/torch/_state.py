"""Where gradstep.torch keeps its per-parameter state, and in which layout.

``optimizer.state[p]`` maps each of the Keras optimizer's ``slot_names()`` (``"m"``,
``"v"``, ``"moment"``, ``"accumulator"``, ...) to a tensor shaped like ``p``, which
starts at the optimizer's ``slot_starts()`` (zeros, but for the accumulator of Adagrad's
flavours with an ``initial_accumulator_value``).

Layout: the slots of the plain (non-DTensor) float32/float64 CPU parameters of one param
group are allocated together, one flat buffer per slot and dtype, in the group's parameter
order; each ``state[p][name]`` is a view of its buffer. An engine can therefore treat a
slot of a whole group as one array. Parameters that first get a gradient later get a
buffer of their own; ``load_state_dict`` copies loaded state back into fresh flat buffers
(so the optimizer never aliases the tensors of the dict it loaded).

With ``flatten_params=True`` the parameters themselves are moved the same way: the plain
CPU float32/float64 parameters of a group become views of one buffer per dtype
(``p.data`` is replaced; the Parameter objects stay the same), and each step on the
general path (``_step``) gathers their gradients into one buffer too (and points
``p.grad`` at its views, so a ``zero_grad(set_to_none=False)`` loop accumulates straight
into it). Then parameters, gradients and every slot are each one array, and the fused
engine runs the whole group in one kernel call. (Steady steps, ``_steady``, read the
gradients where they are.)

Other parameters (DTensor shards, CUDA, float16/bfloat16) get ``torch.zeros_like`` slots;
float16 and bfloat16 parameters keep float32 state, because their update is computed in
float32.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

import torch

from ._distributed import is_dtensor, local_tensor

__all__ = [
    "ENGINE_DTYPES",
    "state_dtype",
    "uses_engine",
    "allocate",
    "flatten_state",
    "flatten_parameters",
    "flat_views",
    "sharing_memory",
]

ENGINE_DTYPES = (torch.float32, torch.float64)
_LOW_PRECISION = (torch.float16, torch.bfloat16)


def state_dtype(param: torch.Tensor) -> torch.dtype:
    """The dtype of a parameter's slots: float32 for float16/bfloat16, else its own."""
    return torch.float32 if param.dtype in _LOW_PRECISION else param.dtype


def uses_engine(param: torch.Tensor, torch_ops: bool) -> bool:
    """Whether the step runs through a NumPy engine (CPU float32/float64, zero-copy)."""
    if torch_ops:
        return False
    local = local_tensor(param)
    return local.device.type == "cpu" and local.dtype in ENGINE_DTYPES


def allocate(
    state: MutableMapping[torch.Tensor, dict[str, Any]],
    params: Sequence[torch.Tensor],
    names: Sequence[str],
    torch_ops: bool,
    starts: Sequence[float] | None = None,
) -> None:
    """Give every parameter in ``params`` slots for the ``names`` it lacks, each at its
    start value (``starts``, one per name; zeros when None)."""
    start_of = dict(zip(names, starts or ()))
    flat: dict[tuple[str, torch.dtype], list[torch.Tensor]] = {}
    for p in params:
        slots = state[p]
        for name in names:
            if name in slots:
                continue
            if uses_engine(p, torch_ops) and not is_dtensor(p):
                flat.setdefault((name, p.dtype), []).append(p)
                continue
            start = start_of.get(name, 0.0)
            if start == 0.0:
                slots[name] = torch.zeros_like(
                    p, dtype=state_dtype(p), memory_format=torch.contiguous_format
                )
            else:
                slots[name] = torch.full_like(
                    p,
                    start,
                    dtype=state_dtype(p),
                    memory_format=torch.contiguous_format,
                )
    for (name, dtype), members in flat.items():
        size = sum(p.numel() for p in members)
        start = start_of.get(name, 0.0)
        if start == 0.0:
            buffer = torch.zeros(size, dtype=dtype)
        else:
            buffer = torch.full((size,), start, dtype=dtype)
        for p, view in zip(members, _views(buffer, members)):
            state[p][name] = view


def flatten_state(
    state: MutableMapping[torch.Tensor, dict[str, Any]],
    params: Sequence[torch.Tensor],
    torch_ops: bool,
) -> None:
    """Copy the slots of the plain CPU float parameters among ``params`` (one group) into
    fresh flat buffers, one per slot name and dtype, replacing them in ``state``."""
    members: dict[tuple[str, torch.dtype], list[torch.Tensor]] = {}
    for p in params:
        if p not in state or is_dtensor(p) or not uses_engine(p, torch_ops):
            continue
        for name, value in state[p].items():
            if isinstance(value, torch.Tensor) and value.shape == p.shape:
                members.setdefault((name, p.dtype), []).append(p)
    for (name, dtype), group in members.items():
        buffer = torch.empty(sum(p.numel() for p in group), dtype=dtype)
        for p, view in zip(group, _views(buffer, group)):
            view.copy_(state[p][name].detach())  # no autograd graph into the state
            state[p][name] = view


def flatten_parameters(
    params: Sequence[torch.Tensor], torch_ops: bool, shared: set[int] | None = None
) -> None:
    """Move the plain CPU float parameters among ``params`` (one group) into one buffer
    per dtype, in order: ``p.data`` becomes a view of it (values unchanged). Those in
    ``shared`` (ids; default: ``sharing_memory(params)``) stay where they are."""
    members: dict[torch.dtype, list[torch.Tensor]] = {}
    if shared is None:
        shared = sharing_memory(params)
    for p in params:
        if uses_engine(p, torch_ops) and not is_dtensor(p) and id(p) not in shared:
            members.setdefault(p.dtype, []).append(p)
    for dtype, group in members.items():
        buffer = torch.empty(sum(p.numel() for p in group), dtype=dtype)
        for p, view in zip(group, _views(buffer, group)):
            view.copy_(p.detach())
            p.data = view


def sharing_memory(params: Sequence[torch.Tensor]) -> set[int]:
    """The ids of the parameters among ``params`` whose memory overlaps another's (views
    of one another). ``flatten_parameters`` leaves them where they are (moving them
    would part them) and the step updates them one after the other with torch
    operations, as torch.optim does (a NumPy engine call reads all its tensors before
    writing any)."""
    spans = []
    for p in params:
        local = local_tensor(p)
        if local.device.type != "cpu" or local.numel() == 0:
            continue
        extent = 1 + sum((n - 1) * abs(s) for n, s in zip(local.shape, local.stride()))
        start = local.data_ptr()
        spans.append((start, start + extent * local.element_size(), id(p)))
    spans.sort()
    shared: set[int] = set()
    end, owner = -1, None
    for start, stop, ident in spans:
        if start < end:
            shared.update((ident, owner))
        if stop > end:
            end, owner = stop, ident
    return shared


def flat_views(
    buffer: torch.Tensor, tensors: Sequence[torch.Tensor]
) -> list[torch.Tensor]:
    """Views of ``buffer`` shaped like ``tensors``, laid end to end."""
    return _views(buffer, tensors)


def _views(buffer: torch.Tensor, params: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    views, start = [], 0
    for p in params:
        views.append(buffer[start : start + p.numel()].view(p.shape))
        start += p.numel()
    return views
