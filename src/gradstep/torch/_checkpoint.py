"""Checking a state dict before ``load_state_dict`` assigns any of it.

``checked_state_dict`` validates everything a gradstep.torch state dict holds against the
optimizer it is loaded into and returns the dict to hand to torch's loader (group
hyperparameters under the names the groups hold: ``betas``, and ``clipnorm``/
``clipvalue`` adopted from the dict, or kept from the optimizer when the dict has none).
Anything wrong raises ``ValueError``/``TypeError`` naming the group or parameter, and the
optimizer is untouched: no value that would make the next step produce NaN or fail
(a NaN or string ``m_schedule``, an ``iterations`` of ``2**63`` or ``1.5``, a slot of the
wrong shape or a non-float dtype, a ``step`` that disagrees with ``iterations``, or
where parameters count their own steps, a ``step`` of ``-1`` or ``2.5``) gets in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import torch

from ..optimizers._flavours import FRAMEWORKS
from . import _torch_optim_state as native
from ._arguments import flavour_of, normalize

__all__ = [
    "MAX_ITERATIONS",
    "check_count",
    "check_iterations",
    "check_scalar",
    "checked_state_dict",
]

# Step counters stay exact as floats (Keras computes with float(t)).
MAX_ITERATIONS = 2**53
_CLIP_KEYS = ("clipnorm", "clipvalue", "global_clipnorm")
_SLOT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def check_iterations(value: Any, where: str) -> int:
    """``value`` if it is an int in [0, 2**53], else ``ValueError``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 0 <= value <= MAX_ITERATIONS
    ):
        raise ValueError(f"{where}iterations={value!r}; expected an int in [0, 2**53]")
    return value


def check_scalar(name: str, value: Any, where: str) -> float:
    """A host scalar (Nadam's ``m_schedule``, a product of factors in [0, 1)): a finite
    real number in [0, 1]."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.is_cpu:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}{name}={value!r}; expected a number in [0, 1]")
    number = float(value)
    if not (math.isfinite(number) and 0.0 <= number <= 1.0):
        raise ValueError(f"{where}{name}={value!r}; expected a number in [0, 1]")
    return number


def check_count(value: Any, where: str) -> int:
    """A ``state[p]["step"]`` as an int: a real number (or 1-element tensor) holding a
    whole number in [0, 2**53]; ``ValueError`` otherwise."""
    number = _real_number(value)
    if (
        number is None
        or not math.isfinite(number)
        or number != int(number)
        or not 0 <= number <= MAX_ITERATIONS
    ):
        shown = value if number is None else number
        raise ValueError(
            f"{where}step={shown!r}; expected a whole number in [0, 2**53] (the steps "
            "this parameter has taken)"
        )
    return int(number)


def checked_state_dict(
    state_dict: Any,
    groups: list[dict[str, Any]],
    keras_class: type,
    keras_for: Callable[[Mapping[str, Any], int], Any],
    state_dtype: Callable[[torch.Tensor], torch.dtype],
    keys: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """The state dict to load into an optimizer with ``groups``, every part checked
    first (see the module docstring); ``keras_for`` validates a group's
    hyperparameters, ``state_dtype(p)`` is the dtype of ``p``'s slots, ``keys`` the
    hyperparameters the optimizer's groups hold (its flavour's ``config_keys``).

    A state dict of another flavour is refused (``ValueError`` naming both); one
    without a ``flavour`` (written before flavours existed) is "keras22". One that
    torch.optim wrote loads into ``flavour="torch"`` (``_torch_optim_state``)."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            f"state_dict must be a mapping, got {type(state_dict).__name__}"
        )
    saved_groups, saved_state = (
        state_dict.get("param_groups"),
        state_dict.get("state"),
    )
    if not isinstance(saved_groups, (list, tuple)) or not isinstance(
        saved_state, Mapping
    ):
        raise ValueError(
            "state_dict must hold 'param_groups' (a list) and 'state' (a mapping), as "
            "state_dict() returns"
        )
    if len(saved_groups) != len(groups):
        raise ValueError("loaded state dict has a different number of parameter groups")
    from_torch = native.written_by_torch_optim(saved_groups)
    names: Mapping[str, str] = {}
    if from_torch:
        flavour = flavour_of(groups[0].get("flavour") if groups else None)
        if flavour != native.TORCH_FLAVOUR:
            raise native.refusal(flavour)
        names = keras_class.flavours[native.TORCH_FLAVOUR].state_names
        saved_state = native.renamed_state(saved_state, names)
    new_groups = []
    owners: dict[Any, tuple[torch.Tensor, tuple[str, ...], int, Any]] = {}
    clip_seen: dict[str, Any] = {}
    for index, (group, saved) in enumerate(zip(groups, saved_groups)):
        where = f"param group {index} of the state dict: "
        if not isinstance(saved, Mapping) or not isinstance(
            saved.get("params"), (list, tuple)
        ):
            raise ValueError(f"{where}expected a dict with a 'params' list")
        saved = dict(saved)
        flavour = flavour_of(group.get("flavour"))
        if from_torch:
            saved["flavour"] = flavour
        saved_flavour = flavour_of(saved.get("flavour"))
        if saved_flavour != flavour:
            raise ValueError(
                f"{where}it was saved by an optimizer of flavour={saved_flavour!r}; "
                f"this optimizer has flavour={flavour!r}: its state (slots, "
                "hyperparameters) means something else here; build the optimizer "
                f"with flavour={saved_flavour!r} to load it"
            )
        saved["flavour"] = flavour
        normalize(keras_class, saved, where, group.get("betas"), keys, flavour)
        if from_torch:
            scalars = keras_class.flavours[flavour].scalar_state
            native.complete_group(saved, group, saved_state, scalars, check_count)
        for key in _CLIP_KEYS:
            saved.setdefault(key, group.get(key))
            if key in clip_seen and clip_seen[key] != saved[key]:
                raise ValueError(
                    f"{where}{key}={saved[key]!r}, group 0 has {clip_seen[key]!r}; "
                    "clipping is one setting of the whole optimizer"
                )
            clip_seen[key] = saved[key]
        keras = keras_for(saved, index)
        slot_names = keras.slot_names()
        check_iterations(saved.get("iterations"), where)
        for name in keras.scalar_state:
            saved[name] = check_scalar(name, saved.get(name), where)
        if len(saved["params"]) != len(group["params"]):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the "
                "size of optimizer's group"
            )
        for key, p in zip(saved["params"], group["params"]):
            if key in owners:
                raise ValueError(f"{where}parameter id {key!r} is listed twice")
            owners[key] = (p, slot_names, saved["iterations"], keras)
        new_groups.append(saved)
    for key, slots in saved_state.items():
        if key not in owners:
            raise ValueError(
                f"state of parameter {key!r}: no param group of the state dict lists it"
            )
        p, slot_names, iterations, keras = owners[key]
        if not isinstance(slots, Mapping):
            raise ValueError(f"state of parameter {key!r} must be a dict of tensors")
        for name in slot_names:
            label = native.slot_label(name, names, from_torch)
            _check_slot(key, label, slots.get(name), p)
        if not FRAMEWORKS[keras.flavour].steps_per_parameter:
            if "step" in slots:
                _check_step(key, slots["step"], iterations)
            continue
        where = f"state of parameter {key}: "
        if "step" in slots:
            check_count(slots["step"], where)
        for name in keras.scalar_state:
            if name in slots:
                check_scalar(name, slots[name], where)
    return {**state_dict, "param_groups": new_groups, "state": saved_state}


def _check_slot(key: Any, name: str, value: Any, p: torch.Tensor) -> None:
    if (
        not isinstance(value, torch.Tensor)
        or value.shape != p.shape
        or value.dtype not in _SLOT_DTYPES
        or value.is_sparse
    ):
        shape = None if value is None else tuple(getattr(value, "shape", ()))
        dtype = getattr(value, "dtype", type(value).__name__)
        raise ValueError(
            f"state of parameter {key} has {name}={shape} ({dtype}); expected a dense "
            f"float tensor of shape {tuple(p.shape)}"
        )


def _real_number(value: Any) -> int | float | None:
    """A real number, or a 1-element real tensor's value; None for anything else."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        if not value.is_complex() and value.dtype is not torch.bool:
            return value.item()
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None


def _check_step(key: Any, value: Any, iterations: int) -> None:
    """``state[p]["step"]`` mirrors its group's ``iterations``: it must agree."""
    number = _real_number(value)
    if number is None or float(number) != float(
        torch.tensor(float(iterations), dtype=_step_dtype(value)).item()
    ):
        raise ValueError(
            f"state of parameter {key} has step={value!r}, its group's iterations is "
            f"{iterations}; step mirrors iterations (fix one in a load_state_dict "
            "pre-hook)"
        )


def _step_dtype(value: Any) -> torch.dtype:
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.dtype
    return torch.float64
