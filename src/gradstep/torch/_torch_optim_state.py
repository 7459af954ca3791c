"""torch.optim's own state dicts, loaded into ``flavour="torch"`` optimizers, and
written by them (``torch_optim_state_dict``, for going back to torch.optim).

A state dict written by ``torch.optim.Adam`` (SGD, NAdam, ...) holds torch's state keys
(``exp_avg``, ``exp_avg_sq``, ``momentum_buffer``, ``mu_product``...) and groups without
gradstep's ``iterations`` and ``flavour``. ``flavour="torch"`` computes torch.optim's
numerics, so there it means the same thing: its keys are renamed to gradstep's slots
(each flavour variant's ``state_names``), and each group is completed with the settings
the optimizer has and torch has not (clipping, the flavour) and with the steps its
parameters took (``iterations``: the most of them; Nadam's group ``m_schedule``: that
parameter's ``mu_product``; torch.optim.SGD counts nothing: ``renamed_state``). Any
other flavour refuses such a dict: its slots hold other quantities there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

__all__ = [
    "complete_group",
    "refusal",
    "renamed_state",
    "slot_label",
    "torch_optim_state_dict",
    "written_by_torch_optim",
]

TORCH_FLAVOUR = "torch"


def written_by_torch_optim(saved_groups: Any) -> bool:
    """Whether a state dict's groups are torch.optim's: none holds gradstep's
    ``iterations`` or ``flavour`` (every gradstep.torch state dict has
    ``iterations``)."""
    return (
        isinstance(saved_groups, (list, tuple))
        and len(saved_groups) > 0
        and all(
            isinstance(g, Mapping) and "iterations" not in g and "flavour" not in g
            for g in saved_groups
        )
    )


def refusal(flavour: str) -> ValueError:
    return ValueError(
        "this state dict was written by torch.optim (its param groups hold no "
        "'iterations' or 'flavour'): it loads into an optimizer built with "
        f"flavour={TORCH_FLAVOUR!r}, whose numerics it holds; this optimizer has "
        f"flavour={flavour!r}"
    )


def renamed_state(state: Mapping[Any, Any], names: Mapping[str, str]) -> dict[Any, Any]:
    """``state`` with torch's keys under gradstep's names (``names``: gradstep's name ->
    torch's); a ``None`` entry (torch's "none yet") is left out. torch.optim.SGD keeps no
    count: a parameter with a momentum buffer has taken a step, which is all its
    arithmetic asks (dampening from the second step on), so it gets ``step`` 1."""
    ours = {native: name for name, native in names.items()}
    renamed = {}
    for key, slots in state.items():
        if not isinstance(slots, Mapping):
            renamed[key] = slots  # refused by the checks that follow
            continue
        slots = {ours.get(k, k): v for k, v in slots.items() if v is not None}
        if slots and "step" not in slots:
            slots["step"] = 1.0
        renamed[key] = slots
    return renamed


def complete_group(
    saved: dict[str, Any],
    group: Mapping[str, Any],
    state: Mapping[Any, Any],
    scalar_state: Mapping[str, float],
    count: Any,
) -> None:
    """Give ``saved`` (a torch.optim group under gradstep's names) what torch's groups
    lack: every other setting of the optimizer's ``group``, ``iterations`` (the most
    steps any of its parameters took, read with ``count(value, where)``) and the host
    scalars of that parameter (their starts when none has state)."""
    for key, value in group.items():
        if key != "params":
            saved.setdefault(key, value)
    steps = []
    for position, key in enumerate(saved["params"]):
        slots = state.get(key)
        if isinstance(slots, Mapping) and "step" in slots:
            steps.append(
                (count(slots["step"], f"state of parameter {key}: "), position, key)
            )
    iterations, _, leader = max(steps, default=(0, 0, None))
    saved["iterations"] = iterations
    for name, start in scalar_state.items():
        slots = state.get(leader, {}) if leader is not None else {}
        saved[name] = slots.get(name, start)


def slot_label(name: str, names: Mapping[str, str], native: bool) -> str:
    """How a slot is named in messages: with torch's key beside gradstep's when the
    dict is torch.optim's."""
    if native and name in names:
        return f"{name} (torch.optim's {names[name]!r})"
    return name


def torch_optim_state_dict(opt: Any) -> dict[str, Any]:
    """``opt.state_dict()`` as torch.optim writes it, for the torch.optim optimizer of
    the same name (``torch.optim.NAdam`` for ``Nadam``) to ``load_state_dict``:
    torch's state keys and group names, copies of every tensor (a step count each),
    and none of gradstep's own keys. Only ``flavour="torch"`` (torch's numerics), and
    only settings torch.optim has: ``ValueError`` for clipping (call
    ``torch.nn.utils.clip_grad_norm_`` before the step instead) or a ``decay`` torch's
    optimizer lacks (use ``LambdaLR``)."""
    saved = opt.state_dict()
    groups, owner = [], {}
    for index, (group, live) in enumerate(zip(saved["param_groups"], opt.param_groups)):
        keras = opt.keras_for(live, index)
        if keras.flavour != TORCH_FLAVOUR:
            raise ValueError(
                f"param group {index}: flavour={keras.flavour!r}; torch.optim's state "
                f"holds torch's quantities: only flavour={TORCH_FLAVOUR!r} writes it"
            )
        variant = type(keras).flavours[TORCH_FLAVOUR]
        groups.append(_torch_group(group, variant, keras, index))
        for key in group["params"]:
            owner[key] = variant
    state = {}
    for key, slots in saved["state"].items():
        names = owner[key].state_names
        state[key] = {
            names.get(name, name): value.detach().clone()
            if isinstance(value, torch.Tensor)
            else value
            for name, value in slots.items()
        }
    return {"state": state, "param_groups": groups}


_GRADSTEP_GROUP_KEYS = ("flavour", "iterations")
_OFF_CLIPPING = ("clipnorm", "clipvalue", "global_clipnorm")


def _torch_group(
    group: Mapping[str, Any], variant: Any, keras: Any, index: int
) -> dict[str, Any]:
    out: dict[str, Any] = {"weight_decay": 0}
    for key, value in group.items():
        if key in _GRADSTEP_GROUP_KEYS or key in keras.scalar_state:
            continue
        if key in _OFF_CLIPPING:
            if value:
                raise ValueError(
                    f"param group {index}: {key}={value!r}; torch.optim's optimizers "
                    "do not clip: call torch.nn.utils.clip_grad_norm_ (or "
                    "clip_grad_value_) before each step, and save with clipping off"
                )
            continue
        if key == "decay" and key not in variant.group_names:
            if value:
                raise ValueError(
                    f"param group {index}: decay={value!r}; torch.optim's "
                    f"{type(keras).__name__} has no learning-rate decay: use "
                    "torch.optim.lr_scheduler.LambdaLR, and save with decay 0"
                )
            continue
        out[variant.group_names.get(key, key)] = value
    return out
