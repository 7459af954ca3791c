"""``KerasTorchOptimizer``: a torch.optim.Optimizer running a gradstep optimizer's rule.

A concrete class is one line, ``Adam = torch_optimizer(gradstep.optimizers.Adam)``: the
NumPy class supplies the signature, defaults, validation, slot names, coefficients and the
per-element rule; this class supplies the torch.optim contract.

Where things live:

- ``param_groups`` (and ``defaults``): the NumPy class's hyperparameters (``config_keys``:
  ``lr``, ``decay``, ... with Keras names, except that Adam, Adamax and Nadam hold
  ``beta_1``/``beta_2`` as torch's ``betas`` pair, so lr schedulers can cycle it; see
  ``_arguments``; the knobs of the flavour too: RMSprop's ``momentum``/``centered``,
  SGD's ``dampening``, Adagrad's ``initial_accumulator_value``), ``flavour``,
  ``clipnorm``, ``clipvalue`` and ``global_clipnorm`` (the same in every group: one
  global norm over all groups, as Keras computes it; ``opt.clipnorm = x`` sets every
  group; tf.keras and Keras 3 clip each tensor's norm on its own, on copies of the
  gradients, before the step),
  plus the group's step counter ``iterations`` (int) and the NumPy class's host scalars
  (Nadam's ``m_schedule``, float). They are part of ``state_dict()`` and checked
  (``_checkpoint``) and restored by ``load_state_dict()``, clipping included (adopted, as
  every other hyperparameter). Each group counts its own steps; every ``step()`` advances
  every group, as Keras's ``iterations`` counts every update, so a group whose
  parameters have no gradient in a step still ages its learning-rate decay. A group
  added later starts at 0.
- ``state[p]``: one tensor per slot name (see ``_state`` for the flat layout), and
  ``"step"``: the group's ``iterations`` as a 0-dim CPU float tensor, one tensor shared by
  the group's parameters (for tools that read torch's ``state[p]["step"]``); where the
  flavour counts each parameter's steps (``flavour="torch"``, see ``_counts``), the
  parameter's own count, and its own host scalars beside it.
- On the optimizer only: ``clipnorm_group`` (see ``_distributed``) and the engine.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import torch

from .._threading import share_openmp_with_torch
from ..kernels import select_engine
from ..kernels._multi_tensor import same_items
from ..kernels.clip import Clipping, PerTensorClipping
from ..optimizers import Optimizer as KerasOptimizer
from ..optimizers._flavours import check_flavour
from ..optimizers._hyper import BUILT, check_clip, check_flag, check_zero_unchanged
from . import _state
from ._arguments import (
    BETAS,
    check_tensor_lr,
    flavour_of,
    group_names,
    has_betas,
    keras_hyperparameters,
    name_torch_names,
    normalize,
    split_betas,
    stray_names,
    torch_names_given,
)
from ._checkpoint import checked_state_dict
from ._clipping import preclip_gradients
from ._counts import counts_per_parameter, loaded_count
from ._distributed import check_group
from ._entry import hook_step, plain_call, without_grad
from ._step import Stepper

__all__ = ["KerasTorchOptimizer", "torch_optimizer"]

_ENGINE_NAMES = ("reference", "fused", "torch", None)
_CLIP_KEYS = ("clipnorm", "clipvalue", "global_clipnorm")
# what every group holds the same value of: one setting of the whole optimizer
_GLOBAL_KEYS = ("flavour", *_CLIP_KEYS)


def _settings_key(settings: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """What identifies a group's settings between steps (None: not comparable)."""
    plain = (bool, int, float, str, type(None))
    key = []
    for name, value in settings.items():
        parts = value if isinstance(value, tuple) else (value,)
        if not all(isinstance(part, plain) for part in parts):
            return None
        key.append((name, tuple(type(part) for part in parts), value))
    return tuple(key)


class KerasTorchOptimizer(torch.optim.Optimizer):
    """Base of the gradstep.torch optimizers; build concrete ones with ``torch_optimizer``.

    Args:
        params: tensors or param-group dicts, as for any torch.optim optimizer.
        *args, **hyperparameters: the NumPy class's arguments (``lr``/``learning_rate``,
            ``decay``, ``epsilon=None``, ...), validated by it, or torch's names for
            them (``betas``, ``eps``, ``alpha``, ``momentum_decay``; ``weight_decay``,
            ``foreach``, ``fused``, ``maximize``, ``capturable``, ``differentiable``
            and ``decoupled_weight_decay`` only when off: see ``_arguments``); they
            become the defaults of every param group. ``lr`` may be a 1-element
            tensor, kept as given; so may ``betas`` (both tensors, as torch requires:
            kept as 0-dim views, read at every step).
        flavour: whose numerics to reproduce: "keras22" (default), "tf_keras",
            "keras3", "torch" (torch.optim's) or "optax"; its defaults, knobs
            (``dampening``, ``centered``, ``initial_accumulator_value``...) and clipping
            come with it (see ``gradstep.optimizers``). One setting of the whole
            optimizer: every group holds it, and ``load_state_dict`` refuses a state
            dict of another flavour.
        clipnorm: clip all gradients of the optimizer (all groups) by their global norm
            (Keras 2.2, torch, optax); tf.keras and Keras 3 clip each tensor by its own
            norm before the step, leaving the user's gradients as they are.
        clipvalue: then clip every element to [-clipvalue, clipvalue].
        global_clipnorm: the global norm clipping of tf.keras and Keras 3.
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
            gradient where it is, about a microsecond per tensor; while the gradients
            are still the views of that buffer (a loop with
            ``opt.zero_grad(set_to_none=False)``, whose backward accumulates into
            them; that ``zero_grad`` is then one fill of the buffer) the step checks
            only that they are, a few tenths of a microsecond each. Off by default: it
            replaces ``p.data`` and keeps a gradient buffer (memory of one more copy
            of the parameters); ``torch.save`` of one such parameter saves its whole
            buffer. Parameters that are views of one another (in any groups given to
            the constructor, or of a group added later with those before) stay where
            they are and are updated one after the other, as torch does; a group added
            later cannot rejoin a view of a parameter already moved.
    """

    keras_class: ClassVar[type[KerasOptimizer]]

    def __init__(
        self,
        params: Iterable[Any],
        *args: Any,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        flavour: str | None = None,
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
        if flavour is not None:
            check_flavour(flavour)
        hyper = dict(hyperparameters)
        given = torch_names_given(hyper)
        normalize(self.keras_class, hyper, flavour=flavour)
        check_tensor_lr(hyper.get("lr"))
        keras_hyper = {
            k: v.item() if isinstance(v, torch.Tensor) else v for k, v in hyper.items()
        }
        if BETAS in keras_hyper:
            keras_hyper["beta_1"], keras_hyper["beta_2"] = split_betas(
                keras_hyper.pop(BETAS), ""
            )
        try:
            keras = self.keras_class(
                *args,
                clipnorm=clipnorm,
                clipvalue=clipvalue,
                **(
                    {}
                    if global_clipnorm is None
                    else {"global_clipnorm": global_clipnorm}
                ),
                **({} if flavour is None else {"flavour": flavour}),
                engine=None if engine == "torch" else engine,
                **keras_hyper,
            )
        except ValueError as error:  # name torch's name the value was given under
            renamed = name_torch_names(error, given)
            if renamed is None:
                raise
            raise renamed from None
        # the hyperparameters every group holds: the instance's, which depend on the
        # flavour (its knobs added, what it has not left out)
        self._config_keys = tuple(keras.config_keys)
        self._clip_cache: tuple[Any, ...] | None = None
        self._clipnorm_group_arg = clipnorm_group
        share_openmp_with_torch()  # kernels between torch ops: on torch's own workers
        self._stepper = self._new_stepper(
            engine, check_flag("flatten_params", flatten_params)
        )
        defaults = {key: getattr(keras, key) for key in self._config_keys}
        if isinstance(hyper.get("lr"), torch.Tensor):
            defaults["lr"] = hyper["lr"]  # as torch keeps it: no recompiles
        if has_betas(keras):
            defaults[BETAS] = (defaults.pop("beta_1"), defaults.pop("beta_2"))
            pair = hyper.get(BETAS)
            if isinstance(pair, tuple) and isinstance(pair[0], torch.Tensor):
                # tensors: kept as torch keeps them, 0-dim views (read at each step)
                defaults[BETAS] = tuple(b.squeeze() if b.dim() else b for b in pair)
        defaults.update(
            clipnorm=keras.clipnorm,
            clipvalue=keras.clipvalue,
            global_clipnorm=keras.global_clipnorm,
            flavour=keras.flavour,
        )
        self._constructing = True  # groups are flattened once all are known
        try:
            super().__init__(params, defaults)
        finally:
            del self._constructing
        if self._stepper.flatten_params:
            self._flatten_groups(self.param_groups)

    def _flatten_groups(self, groups: list[dict[str, Any]]) -> None:
        """``flatten_params``: move the parameters of ``groups``, but for those sharing
        memory with any parameter of the optimizer (views of one another, also across
        groups), which must stay as they are to be updated as torch does."""
        everyone = [p for group in self.param_groups for p in group["params"]]
        shared = _state.sharing_memory(everyone)
        for group in groups:
            _state.flatten_parameters(group["params"], self._stepper.torch_ops, shared)

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
        """A NumPy optimizer with ``group``'s hyperparameters (and clipping), which
        validates them and computes the coefficients; ``ValueError`` names the group and
        the value."""
        cached = self._stepper.keras.get(index)
        watched = self._watched_keys()
        values = [group.get(k) for k in watched]
        if (
            cached is not None
            and cached[2] is not None
            and same_items(values, cached[2])
        ):
            return cached[1]  # the very objects of the last call: already checked
        where = f"param group {index}: "
        hyper = keras_hyperparameters(self.keras_class, group, where, self.config_keys)
        clip = {k: group[k] for k in _GLOBAL_KEYS if k in group}
        key = _settings_key({**hyper, **clip})
        if key is not None and cached is not None and cached[0] == key:
            keras = cached[1]  # the same settings as the last call: already checked
        else:
            try:
                keras = self.keras_class(**hyper, **clip, engine="reference")
                if cached is not None:
                    _check_zero_crossings(cached[1], keras, group)
            except (TypeError, ValueError) as error:
                raise ValueError(f"{where}{error}") from None
        if key is not None:
            immutable = all(map(_is_immutable, values))
            self._stepper.keras[index] = (key, keras, values if immutable else None)
        return keras

    def _watched_keys(self) -> tuple[str, ...]:
        """The group keys ``keras_for`` reads: while a group holds the very same
        immutable objects there (Python numbers, tuples of them), its NumPy optimizer
        is the cached one; a tensor (a scheduler fills a tensor lr in place) or a list
        is read again at every call."""
        keys = self.config_keys
        watched = getattr(self, "_watched", None)
        if watched is None or watched[0] is not keys:
            names = group_names(keys)
            extra = ("beta_1", "beta_2") if BETAS in names else ()
            strays = (*extra, *stray_names(self.keras_class))
            watched = self._watched = (keys, (*names, *strays, *_GLOBAL_KEYS))
        return watched[1]

    @property
    def config_keys(self) -> tuple[str, ...]:
        """The NumPy optimizer's ``config_keys`` for this optimizer's flavour: the
        hyperparameters every group holds (``beta_1``/``beta_2`` as ``betas``)."""
        keys = getattr(self, "_config_keys", None)
        if keys is None:  # unpickled from before flavours: the class's own
            keys = self._config_keys = tuple(self.keras_class.config_keys)
        return keys

    @property
    def flavour(self) -> str:
        """Whose numerics this optimizer reproduces (see ``gradstep.optimizers``)."""
        return flavour_of(self.defaults.get("flavour"))

    def clippings(self) -> tuple[PerTensorClipping | None, Clipping]:
        """The clipping of each tensor before the step (None: none) and the clipping
        the step does (one global norm, then values), as the NumPy optimizer of the
        flavour and the groups' clipping settings computes them."""
        groups = getattr(self, "param_groups", None) or [self.defaults]
        key = tuple(self._clip_setting(k) for k in _GLOBAL_KEYS)
        cached = getattr(self, "_clip_cache", None)
        if cached is None or cached[0] != key:
            keras = self.keras_for(groups[0], 0)
            cached = self._clip_cache = (key, keras.preclipping, keras.clipping)
        return cached[1], cached[2]

    @property
    def clipnorm(self) -> float | None:
        """Clip all gradients of the optimizer by their global norm (every group)."""
        return self._clip_setting("clipnorm")

    @clipnorm.setter
    def clipnorm(self, value: float | None) -> None:
        self._set_clip("clipnorm", value)

    @property
    def clipvalue(self) -> float | None:
        """Then clip every gradient element to [-clipvalue, clipvalue] (every group)."""
        return self._clip_setting("clipvalue")

    @clipvalue.setter
    def clipvalue(self, value: float | None) -> None:
        self._set_clip("clipvalue", value)

    def _clip_setting(self, key: str) -> Any:
        """The groups' common ``key``; ``ValueError`` when groups disagree."""
        groups = getattr(self, "param_groups", None) or [self.defaults]
        first = groups[0].get(key)
        for index, group in enumerate(groups[1:], 1):
            if group.get(key) != first:
                fix = (
                    "the flavour is one setting of the whole optimizer"
                    if key == "flavour"
                    else f"clipping is one global setting: set opt.{key}"
                )
                raise ValueError(
                    f"param group {index} has {key}={group.get(key)!r} and group 0 "
                    f"{first!r}; {fix}"
                )
        return first

    @property
    def global_clipnorm(self) -> float | None:
        """tf.keras's and Keras 3's clipping by the global norm (every group)."""
        return self._clip_setting("global_clipnorm")

    @global_clipnorm.setter
    def global_clipnorm(self, value: float | None) -> None:
        self._set_clip("global_clipnorm", value)

    def _set_clip(self, key: str, value: Any) -> None:
        check_clip(key, value)
        groups = self.param_groups or [self.defaults]
        for index, group in enumerate(groups):  # the flavour's checks, before setting
            self.keras_for({**group, key: value}, index)
        self.defaults[key] = value
        for group in self.param_groups:
            group[key] = value

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group; its hyperparameters default to the constructor's. Duplicated
        parameters, non-float parameters and invalid hyperparameters raise before
        anything is added; torch's names are accepted (``_arguments``). A group may span
        devices: each device's tensors are updated by their own path, clipnorm stays
        global."""
        if not isinstance(param_group, dict):
            raise TypeError(
                f"param_group must be a dict, got {type(param_group).__name__}"
            )
        params = param_group.get("params")
        if isinstance(params, torch.Tensor):
            params = [params]
        elif params is not None and not isinstance(params, set):
            params = list(params)
        index = len(self.param_groups)
        where = f"param group {index}: "
        candidate = dict(param_group)
        given = torch_names_given(candidate)
        normalize(
            self.keras_class,
            candidate,
            where,
            self.defaults.get(BETAS),
            keys=self.config_keys,
            flavour=self.flavour,
        )
        if "flavour" in candidate and candidate["flavour"] != self.flavour:
            raise ValueError(
                f"{where}flavour={candidate['flavour']!r} differs from the optimizer's "
                f"{self.flavour!r}; the flavour is one setting of the whole optimizer"
            )
        _check_torch_start(self, candidate, where)
        for key in _CLIP_KEYS:
            if key in candidate and self.param_groups:
                if candidate[key] != self._clip_setting(key):
                    raise ValueError(
                        f"{where}{key}={candidate[key]!r} differs from the optimizer's "
                        f"{self._clip_setting(key)!r}; clipping is one global setting "
                        f"(set opt.{key})"
                    )
        if isinstance(params, list):
            candidate["params"] = params
            self._check_group_params(params, index)
        hyper = {**self.defaults, **candidate}
        check_tensor_lr(hyper.get("lr"), where)
        epsilon = hyper.get("epsilon", 0.0)
        try:
            if epsilon is None or ("epsilon" in candidate and _is_zero_number(epsilon)):
                # the flavour's default (tf.keras reads 0 as its default too): resolved
                resolved = self.keras_for({**hyper, "epsilon": epsilon}, index).epsilon
                if epsilon is None or resolved != 0:
                    candidate["epsilon"] = resolved
            else:
                self.keras_for(hyper, index)
        except ValueError as error:  # name torch's name the value was given under
            renamed = name_torch_names(error, given, where)
            if renamed is None:
                raise
            raise renamed from None
        param_group.clear()  # torch's own add_param_group fills in the caller's dict
        param_group.update(candidate)
        super().add_param_group(param_group)
        if self._stepper.flatten_params and not getattr(self, "_constructing", False):
            self._flatten_groups([param_group])
        param_group.setdefault("iterations", 0)
        keras = self.keras_for(param_group, index)
        for key, value in keras.scalar_state.items():
            param_group.setdefault(key, value)

    @staticmethod
    def _check_group_params(params: list[Any], index: int) -> None:
        tensors = [p[1] if isinstance(p, tuple) and len(p) == 2 else p for p in params]
        seen: dict[int, int] = {}
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

    # ---- the step ------------------------------------------------------------------
    profile_hook_step = staticmethod(hook_step)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns ``closure()``'s loss
        (the closure runs with gradients enabled, before the update)."""
        if plain_call(self):
            return without_grad(self._step, closure)
        return self._wrapped_step(closure)

    def _step(self, closure: Callable[[], Any] | None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        preclipping, clipping = self.clippings()
        if preclipping is None:
            self._stepper.step(self.param_groups, self.state, self.keras_for, clipping)
            return loss
        # tf.keras / Keras 3: each tensor clipped on its own first; the step reads
        # clipped copies, the user's gradients are put back as they were
        swapped = preclip_gradients(self.param_groups, preclipping)
        try:
            self._stepper.step(self.param_groups, self.state, self.keras_for, clipping)
        finally:
            for p, g in swapped:
                p.grad = g
        return loss

    @torch._disable_dynamo
    def zero_grad(self, set_to_none: bool = True) -> None:
        """torch's ``zero_grad``; with ``flatten_params=True`` and
        ``set_to_none=False``, while the gradients are the views of the optimizer's
        gradient buffer (after a step), one fill of that buffer instead of a loop over
        the tensors (the same result: every gradient zero, still those views)."""
        buffers = (
            None
            if set_to_none
            else self._stepper.own_gradient_buffers(self.param_groups)
        )
        if buffers is None:
            super().zero_grad(set_to_none)
            return
        if not hasattr(self, "_zero_grad_profile_name"):
            self._patch_step_function()
        with torch.autograd.profiler.record_function(self._zero_grad_profile_name):
            for buffer in buffers:
                buffer.zero_()

    # torch.compile: the step runs compiled NumPy/numba kernels on host memory, which
    # dynamo cannot trace; it is called as one opaque function (no graph break warnings)
    _wrapped_step = torch._disable_dynamo(torch.no_grad()(_step))

    # ---- state ---------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.update(
            _config_keys=self.config_keys,
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
        state.pop("_clip_cache", None)
        super().__setstate__(state)
        self._clip_cache = None
        self._stepper = self._new_stepper(engine, flatten_params)

    @torch._disable_dynamo
    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore ``state_dict()``'s output as torch does: the registered pre-hooks run
        first (they may migrate the dict), then everything is checked (``_checkpoint``:
        hyperparameters, clipping, counters, host scalars, slot shapes and dtypes,
        ``step``) before anything is assigned; then the state is cast to each
        parameter's device and dtype (float32 for float16/bfloat16 parameters) and the
        post-hooks run."""
        state_dict = dict(state_dict) if isinstance(state_dict, Mapping) else state_dict
        for pre_hook in list(self._optimizer_load_state_dict_pre_hooks.values()):
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
        checked = checked_state_dict(
            state_dict,
            self.param_groups,
            self.keras_class,
            self.keras_for,
            _state.state_dtype,
            self.config_keys,
        )
        # read before torch's loader casts the state to the parameters' dtypes
        saved_counts = self._loaded_counts(checked)
        hooks = self._optimizer_load_state_dict_pre_hooks
        self._optimizer_load_state_dict_pre_hooks = type(hooks)()  # ran already
        try:
            super().load_state_dict(checked)
        finally:
            hooks.update(self._optimizer_load_state_dict_pre_hooks)
            self._optimizer_load_state_dict_pre_hooks = hooks
        for index, group in enumerate(self.param_groups):
            keras = self.keras_for(group, index)
            per_parameter = counts_per_parameter(keras)
            for p in group["params"]:
                slots = self.state.get(p)
                if slots is None:
                    continue
                for name in ("step", *(keras.scalar_state if per_parameter else ())):
                    slots.pop(name, None)
                if p.dtype != _state.state_dtype(p):
                    for name, value in slots.items():
                        if (
                            isinstance(value, torch.Tensor)
                            and value.is_floating_point()
                        ):
                            slots[name] = value.to(
                                device=p.device, dtype=_state.state_dtype(p)
                            )
            _state.flatten_state(self.state, group["params"], self._stepper.torch_ops)
        self._stepper.reset()
        self._stepper.share_counters(
            self.param_groups, self.state, self.keras_for, saved_counts
        )
        self._clip_cache = None

    def _loaded_counts(
        self, checked: Mapping[str, Any]
    ) -> dict[int, tuple[int, tuple[float, ...]]]:
        """Where parameters count their own steps: the count and scalars the checked
        state dict gives each parameter (by ``id(p)``), the scalars in the dtype
        torch's loader gives them (``loaded_count``)."""
        counts = {}
        for index, (group, saved) in enumerate(
            zip(self.param_groups, checked["param_groups"])
        ):
            keras = self.keras_for(group, index)
            if not counts_per_parameter(keras):
                continue
            for key, p in zip(saved["params"], group["params"]):
                slots = checked["state"].get(key)
                if slots and "step" in slots:
                    counts[id(p)] = loaded_count(keras, saved, slots, p.dtype)
        return counts


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
        for name in (
            "clipnorm",
            "clipvalue",
            "global_clipnorm",
            "flavour",
            "clipnorm_group",
            "engine",
        )
    ]
    extra.append(inspect.Parameter("flatten_params", keyword, default=False))
    first = inspect.Parameter("params", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return inspect.Signature([first, *own, *extra])


def _check_zero_crossings(
    before: KerasOptimizer, after: KerasOptimizer, group: Mapping[str, Any]
) -> None:
    """``ValueError`` when a group's setting crosses 0 where the flavour fixes
    whether it is 0 (``Variant.zero_fixed``), as assigning it to the NumPy optimizer
    does: always where the framework chose its kernel in the constructor
    (``CONSTRUCTED``, tf_keras), and after the first step (``BUILT``) while the slots
    stay the same ones (torch's SGD buffer holds the last gradient without momentum,
    where torch.optim would start a fresh one; a slot that comes with the setting, as
    RMSprop's ``momentum``, starts at zero as torch's would)."""
    variant = getattr(after, "variant", None)
    if variant is None:
        return
    for name, since in variant.zero_fixed.items():
        if since == BUILT and (
            not group.get("iterations", 0) or before.slot_names() != after.slot_names()
        ):
            continue
        check_zero_unchanged(name, getattr(before, name), getattr(after, name), since)


def _check_torch_start(
    opt: KerasTorchOptimizer, candidate: Mapping[str, Any], where: str
) -> None:
    """flavour="torch": torch.optim.Adagrad starts every accumulator at the
    constructor's ``initial_accumulator_value`` and ignores a group's own, so a group
    whose value differs is refused (gradstep would start it there, torch does not)."""
    name = "initial_accumulator_value"
    if opt.flavour != "torch" or name not in candidate or name not in opt.defaults:
        return
    value, default = candidate[name], opt.defaults[name]
    if not _same_number(value, default):
        raise ValueError(
            f"{where}{name}={value!r} differs from the optimizer's {default!r}: "
            "torch.optim.Adagrad starts every accumulator at the constructor's "
            f"{name} (a group's own is not used), so flavour='torch' takes it only "
            "there; pass it to the constructor (or use an optimizer per value)"
        )


def _same_number(a: Any, b: Any) -> bool:
    a = a.item() if isinstance(a, torch.Tensor) and a.numel() == 1 else a
    b = b.item() if isinstance(b, torch.Tensor) and b.numel() == 1 else b
    try:
        return bool(a == b)
    except (TypeError, ValueError, RuntimeError):
        return False


def _is_immutable(value: Any) -> bool:
    """Whether ``value`` (a group's setting) cannot change while it is the same
    object: a plain Python scalar, or a tuple of them."""
    plain = (bool, int, float, str, type(None))
    if isinstance(value, tuple):
        return all(isinstance(part, plain) for part in value)
    return isinstance(value, plain)


def _is_zero_number(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return value.numel() == 1 and value.item() == 0
    return (
        not isinstance(value, (bool, str))
        and isinstance(value, (int, float))
        and (value == 0)
    )
