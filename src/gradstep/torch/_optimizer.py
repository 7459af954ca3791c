"""``KerasTorchOptimizer``: a torch.optim.Optimizer running a gradstep optimizer's rule.

A concrete class is one line, ``Adam = torch_optimizer(gradstep.optimizers.Adam)``: the
NumPy class supplies the signature, defaults, validation, slot names, coefficients and the
per-element rule; this class supplies the torch.optim contract.

Where things live:

- ``param_groups``: the NumPy class's hyperparameters (``config_keys``: ``lr``, ``decay``,
  ``beta_1``, ..., with Keras names), plus the group's step counter ``iterations`` (int)
  and the NumPy class's host scalars (Nadam's ``m_schedule``, float). They are part of
  ``state_dict()`` and checked and restored by ``load_state_dict()``. Each group counts
  its own steps; every ``step()`` advances every group, as Keras's ``iterations`` counts
  every update, so a group whose parameters have no gradient in a step still ages its
  learning-rate decay. A group added later starts at 0.
- ``state[p]``: one tensor per slot name (see ``_state`` for the flat layout).
- On the optimizer, not per group: ``clipnorm``, ``clipvalue`` (one global norm over all
  groups, as Keras computes it) and ``clipnorm_group`` (see ``_distributed``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import torch

from .._threading import share_openmp_with_torch
from ..kernels import select_engine
from ..kernels.clip import Clipping
from ..optimizers import Optimizer as KerasOptimizer
from ..optimizers._hyper import check_flag
from . import _state
from ._distributed import check_group
from ._step import Stepper

__all__ = ["KerasTorchOptimizer", "torch_optimizer"]

_ENGINE_NAMES = ("reference", "fused", "torch", None)


class KerasTorchOptimizer(torch.optim.Optimizer):
    """Base of the gradstep.torch optimizers; build concrete ones with ``torch_optimizer``.

    Args:
        params: tensors or param-group dicts, as for any torch.optim optimizer.
        *args, **hyperparameters: the NumPy class's arguments (``lr``/``learning_rate``,
            ``decay``, ``epsilon=None``, ...), validated by it; they become the defaults
            of every param group.
        clipnorm: clip all gradients of the optimizer (all groups) by their global norm.
        clipvalue: then clip every element to [-clipvalue, clipvalue].
        clipnorm_group: ``None`` (the gradients of this optimizer are all there is, also
            under DDP and FSDP2), or ``"world"`` / a ProcessGroup when each rank holds a
            partition of the parameters (``ZeroRedundancyOptimizer``): the squared norms
            are then summed over the group. Pass the string under ZeRO, whose state dict
            stores it.
        engine: "reference", "fused" or None (fastest) for CPU float32/float64 tensors;
            "torch" runs every tensor with torch operations instead.
        flatten_params: move each group's CPU float32/float64 parameters into one
            buffer per dtype (``p.data`` becomes a view; the Parameters stay the same
            objects), and on steps that take the general path (the first one; every
            one with DTensor gradients, as under FSDP2) gather their gradients into one
            buffer, so the fused engine updates a whole group as one span. Other steps
            (the steady path: the same parameters as the last step, plain gradients)
            are one multi-tensor kernel call per group either way, reading each
            gradient where it is, about a microsecond per tensor. Off by default: it
            replaces ``p.data`` and keeps a gradient buffer (memory of one more copy
            of the parameters); ``torch.save`` of one such parameter saves its whole
            buffer.
    """

    keras_class: ClassVar[type[KerasOptimizer]]

    def __init__(
        self,
        params: Iterable[Any],
        *args: Any,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        clipnorm_group: Any = None,
        engine: str | None = None,
        flatten_params: bool = False,
        **hyperparameters: Any,
    ) -> None:
        if engine not in _ENGINE_NAMES:
            raise ValueError(
                f"Unknown engine: {engine!r}; expected 'reference', 'fused', 'torch' or "
                "None"
            )
        keras = self.keras_class(
            *args,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            engine=None if engine == "torch" else engine,
            **hyperparameters,
        )
        self.clipnorm = keras.clipnorm
        self.clipvalue = keras.clipvalue
        self._clipnorm_group_arg = clipnorm_group
        share_openmp_with_torch()  # kernels between torch ops: on torch's own workers
        self._stepper = self._new_stepper(
            engine, check_flag("flatten_params", flatten_params)
        )
        defaults = {key: getattr(keras, key) for key in self.keras_class.config_keys}
        super().__init__(params, defaults)

    def _new_stepper(self, engine: str | None, flatten_params: bool) -> Stepper:
        torch_ops = engine == "torch"
        return Stepper(
            engine=select_engine(None if torch_ops else engine),
            torch_ops=torch_ops,
            flatten_params=flatten_params,
            clipnorm_group=check_group(self._clipnorm_group_arg),
            owner=type(self).__name__,
        )

    @property
    def engine(self) -> str:
        """What updates the CPU float32/float64 tensors: "fused", "reference", or
        "torch" (torch operations, as for every other tensor)."""
        stepper = self._stepper
        return "torch" if stepper.torch_ops else stepper.engine.name

    # ---- hyperparameters -----------------------------------------------------------
    def keras_for(self, group: Mapping[str, Any], index: int) -> KerasOptimizer:
        """A NumPy optimizer with ``group``'s hyperparameters, which validates them and
        computes the coefficients; ``ValueError`` names the group and the value."""
        hyper = {}
        for key in self.keras_class.config_keys:
            if key not in group:
                raise ValueError(
                    f"param group {index} has no {key!r}; {type(self).__name__} groups "
                    f"hold {', '.join(self.keras_class.config_keys)}"
                )
            value = group[key]
            if isinstance(value, torch.Tensor) and value.numel() == 1:
                value = value.item()
            hyper[key] = value
        try:
            return self.keras_class(**hyper, engine="reference")
        except (TypeError, ValueError) as error:
            raise ValueError(f"param group {index}: {error}") from None

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group; its hyperparameters default to the constructor's. Duplicated
        parameters, parameters on several devices, non-float parameters and invalid
        hyperparameters raise before anything is added."""
        if not isinstance(param_group, dict):
            raise TypeError(
                f"param_group must be a dict, got {type(param_group).__name__}"
            )
        params = param_group.get("params")
        if isinstance(params, torch.Tensor):
            params = [params]
        elif params is not None and not isinstance(params, set):
            params = list(params)
        if isinstance(params, list):
            param_group["params"] = params
            self._check_group_params(params, len(self.param_groups))
        index = len(self.param_groups)
        hyper = {**self.defaults, **param_group}
        if hyper.get("epsilon", 0.0) is None:
            param_group["epsilon"] = self.keras_for(
                {**hyper, "epsilon": None}, index
            ).epsilon
        else:
            self.keras_for(hyper, index)
        super().add_param_group(param_group)
        if self._stepper.flatten_params:
            _state.flatten_parameters(param_group["params"], self._stepper.torch_ops)
        param_group.setdefault("iterations", 0)
        for key, value in self.keras_class.scalar_state.items():
            param_group.setdefault(key, value)

    @staticmethod
    def _check_group_params(params: list[Any], index: int) -> None:
        tensors = [p[1] if isinstance(p, tuple) and len(p) == 2 else p for p in params]
        seen: dict[int, int] = {}
        devices = set()
        for i, p in enumerate(tensors):
            if not isinstance(p, torch.Tensor):
                continue  # torch's own check names the type
            if id(p) in seen:
                raise ValueError(
                    f"param group {index}: parameter {i} is the same tensor as parameter "
                    f"{seen[id(p)]}; each parameter may appear once"
                )
            seen[id(p)] = i
            if not p.is_floating_point():
                raise TypeError(
                    f"param group {index}: parameter {i} has dtype {p.dtype}; parameters "
                    "must be floating point"
                )
            devices.add(p.device)
        if len(devices) > 1:
            raise ValueError(
                f"param group {index} has parameters on {sorted(map(str, devices))}; put "
                "all parameters of a group on one device (or use one group per device)"
            )

    # ---- the step ------------------------------------------------------------------
    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns ``closure()``'s loss
        (the closure runs with gradients enabled, before the update)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        clipping = Clipping.of(self.clipnorm, self.clipvalue)
        self._stepper.step(self.param_groups, self.state, self.keras_for, clipping)
        return loss

    # ---- state ---------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.update(
            clipnorm=self.clipnorm,
            clipvalue=self.clipvalue,
            _clipnorm_group_arg=self._clipnorm_group_arg,
            _engine_name=self.engine,
            _flatten_params=self._stepper.flatten_params,
        )
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        engine = state.pop("_engine_name", None)
        flatten_params = state.pop("_flatten_params", False)
        state.pop("_stepper", None)
        super().__setstate__(state)
        self._stepper = self._new_stepper(engine, flatten_params)

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore ``state_dict()``'s output: checks every group's hyperparameters and
        counter and every slot's shape first, then loads as torch does (state cast to
        each parameter's device and dtype; float32 for float16/bfloat16 parameters)."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                "loaded state dict has a different number of parameter groups"
            )
        owners: dict[Any, tuple[torch.Tensor, tuple[str, ...]]] = {}
        for index, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            names = self.keras_for(saved, index).slot_names()
            iterations = saved.get("iterations")
            if (
                isinstance(iterations, bool)
                or not isinstance(iterations, int)
                or iterations < 0
            ):
                raise ValueError(
                    f"param group {index} of the state dict has iterations={iterations!r}; "
                    f"expected an int >= 0 (was it saved by {type(self).__name__}?)"
                )
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the "
                    "size of optimizer's group"
                )
            for key, p in zip(saved["params"], group["params"]):
                owners[key] = (p, names)
        for key, slots in state_dict["state"].items():
            if key not in owners:
                continue
            p, names = owners[key]
            for name in names:
                value = slots.get(name) if isinstance(slots, Mapping) else None
                if not isinstance(value, torch.Tensor) or value.shape != p.shape:
                    shape = (
                        None if value is None else tuple(getattr(value, "shape", ()))
                    )
                    raise ValueError(
                        f"state of parameter {key} has {name}={shape}; expected a tensor "
                        f"of shape {tuple(p.shape)}"
                    )
        super().load_state_dict(state_dict)
        for key, slots in state_dict["state"].items():
            if key in owners and owners[key][0].dtype != _state.state_dtype(
                owners[key][0]
            ):
                p = owners[key][0]
                for name in owners[key][1]:
                    self.state[p][name] = slots[name].to(
                        device=p.device, dtype=_state.state_dtype(p)
                    )
        for group in self.param_groups:
            _state.flatten_state(self.state, group["params"], self._stepper.torch_ops)
        self._stepper.reset()


_CLASSES: dict[type[KerasOptimizer], type[KerasTorchOptimizer]] = {}


def torch_optimizer(keras_class: type[KerasOptimizer]) -> type[KerasTorchOptimizer]:
    """The torch.optim optimizer of a gradstep optimizer class, with the same name,
    signature (after ``params``), defaults and equations (one class per optimizer
    class: ``torch_optimizer(gradstep.optimizers.Adam) is gradstep.torch.Adam``)."""
    if not (isinstance(keras_class, type) and issubclass(keras_class, KerasOptimizer)):
        raise TypeError(
            f"torch_optimizer() expects a gradstep optimizer class, got {keras_class!r}"
        )
    cls = _CLASSES.get(keras_class)
    if cls is None:
        cls = _CLASSES[keras_class] = _build_class(keras_class)
    return cls


def _build_class(keras_class: type[KerasOptimizer]) -> type[KerasTorchOptimizer]:
    name = keras_class.__name__
    doc = (
        f"{name} with the Keras 2.2 equations, as a torch.optim.Optimizer.\n\n"
        f"``gradstep.torch.{name}(params, ...)`` takes the arguments of "
        f"``gradstep.optimizers.{name}`` (below) plus ``clipnorm_group`` and ``engine``; "
        "see ``KerasTorchOptimizer``.\n\n" + inspect.cleandoc(keras_class.__doc__ or "")
    )
    cls = type(
        name,
        (KerasTorchOptimizer,),
        {
            "keras_class": keras_class,
            "__doc__": doc,
            "__module__": "gradstep.torch",
            "__qualname__": name,
        },
    )
    cls.__signature__ = _signature(keras_class)  # type: ignore[attr-defined]
    return cls


def _signature(keras_class: type[KerasOptimizer]) -> inspect.Signature:
    own = [
        p
        for name, p in inspect.signature(keras_class.__init__).parameters.items()
        if name != "self" and p.kind is p.POSITIONAL_OR_KEYWORD
    ]
    keyword = inspect.Parameter.KEYWORD_ONLY
    extra = [
        inspect.Parameter(name, keyword, default=None)
        for name in ("clipnorm", "clipvalue", "clipnorm_group", "engine")
    ]
    extra.append(inspect.Parameter("flatten_params", keyword, default=False))
    first = inspect.Parameter("params", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return inspect.Signature([first, *own, *extra])
