"""The optimizer contract: everything the seven algorithms share.

An algorithm supplies its hyperparameters, the names of its per-parameter slots, the
host-side scalar ``coefficients`` of a step and one per-element ``rule``; this class owns the
iteration counter, learning-rate decay, clipping, applying a step through an engine,
configs and weights. The checks of each step's inputs live in ``_checks``, the layout of
the weights in ``_weights``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

import numpy as np

from .. import backend
from ..kernels import Engine, select_engine
from ..kernels.clip import Clipping, PerTensorClipping, global_norm
from ._checks import Binding
from ._constraints import ConstrainedStep, check_constraints
from ._flavours import DEFAULT_FLAVOUR, FRAMEWORKS, REQUIRED, Variant, check_flavour
from ._hyper import (
    CONSTRUCTED,
    Clip,
    Flag,
    Hyperparameter,
    check_number,
    check_zero_unchanged,
)
from ._weights import MAX_ITERATIONS, WeightLayout

__all__ = ["Optimizer", "default", "keras_decayed_lr"]

_CLIP_KEYS = ("clipnorm", "clipvalue", "global_clipnorm")
_OPTIONAL_KEYWORDS = (
    "learning_rate",
    "clipnorm",
    "clipvalue",
    "global_clipnorm",
    "flavour",
    "engine",
)


class default(float):  # noqa: N801 - reads as a marker in signatures: lr=default(0.01)
    """A float that marks a default argument, so ``lr`` and ``learning_rate`` can be told
    apart from an explicit ``lr`` of the same value."""


def keras_decayed_lr(
    lr: float, decay: float, iterations: int, initial_decay: float
) -> float:
    """Keras 2.2's time-based decay: lr * (1 / (1 + decay * iterations)), ``iterations``
    counted before the step, applied only when the constructor's decay was > 0."""
    if initial_decay > 0:
        return lr * (1.0 / (1.0 + decay * iterations))
    return lr


def _unchanged(opt: Any, t: Any, scalars: Mapping[str, Any]) -> dict[str, Any]:
    return dict(scalars)


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Any = _Unset()


class Optimizer:
    """Base class of every gradstep optimizer; subclass it to write a new one.

    A subclass defines, besides its ``__init__``:

    - ``config_keys``: the hyperparameter names ``get_config`` returns, in order;
    - ``slot_names()``: the names of the arrays kept per parameter (zeros at the start);
    - ``coefficients(t, lr, scalars)``: a NamedTuple of the scalars of step ``t`` (1 on
      the first step), given the decayed learning rate ``lr`` and the host scalars;
    - ``rule``: a function ``rule(p, g, *slots, c) -> (p_new, *slots_new)`` using only
      operators, ``abs`` and ``sqrt``/``maximum``/``minimum`` imported from
      ``gradstep.kernels.elementwise``, so every engine can run it;
    - optionally ``scalar_state`` and ``next_scalars`` for host-side scalars kept across
      steps (Nadam's ``m_schedule``).

    ``coefficients`` and ``next_scalars`` are written in the same language as the rule
    (operators, ``**`` and the element-wise functions; no ``math`` module, no
    ``float()`` of the counter) and read only ``self``'s hyperparameters, so that a
    tracing front end (JAX under ``jit``) runs the very same functions with traced
    values. Here they get Python numbers and give Python floats.

    ``apply_gradients(zip(grads, params))`` makes one step over all parameters together and
    updates the NumPy arrays in place. Hyperparameters are validated when set, also between
    steps (``opt.lr = 0.01``). Keyword arguments every optimizer accepts: ``clipnorm``,
    ``clipvalue`` (None or 0: off), ``learning_rate`` (alias of ``lr``), ``flavour``,
    ``global_clipnorm`` (flavours tf_keras and keras3) and ``engine`` ("reference",
    "fused" or None for the fastest available; never changes results).

    Non-finite gradients are not checked: as in Keras they propagate into the parameters.

    ``flavour`` (see ``_flavours``): whose numerics to reproduce, "keras22" (default),
    "tf_keras", "keras3", "torch" or "optax". The built-in optimizers define each
    flavour's rule, coefficients, slots and defaults in their ``flavours`` table, and
    the methods above read the optimizer's own entry; a subclass without a table
    defines them itself and has the "keras22" flavour only.
    """

    config_keys: ClassVar[tuple[str, ...]] = ("lr",)
    keras224_omits: ClassVar[tuple[str, ...]] = ()
    has_decay: ClassVar[bool] = True
    flavours: ClassVar[Mapping[str, Variant]] = {}
    knobs_off: ClassVar[Mapping[str, Any]] = {}

    lr = Hyperparameter()
    decay = Hyperparameter()
    clipnorm = Clip()
    clipvalue = Clip()
    global_clipnorm = Clip()

    def __init__(self, lr: float, decay: float = _UNSET, **kwargs: Any) -> None:
        unknown = [key for key in kwargs if key not in _OPTIONAL_KEYWORDS]
        if unknown:
            raise TypeError(
                f"Unexpected keyword argument passed to optimizer: {unknown[0]}. "
                f"{type(self).__name__} accepts {', '.join(self._accepted_keywords())}"
            )
        if decay is not _UNSET and not self.has_decay:
            raise TypeError(
                "Unexpected keyword argument passed to optimizer: decay. "
                f"{type(self).__name__} has no learning-rate decay"
            )
        if "learning_rate" in kwargs:
            alias = kwargs["learning_rate"]
            if not isinstance(lr, default) and lr != alias:
                raise ValueError(
                    f"lr and learning_rate are two names for one value; got lr={lr!r} "
                    f"and learning_rate={alias!r}: pass one of them"
                )
            lr = alias
        self.flavour = self._check_flavour_of_class(kwargs.get("flavour"))
        self.lr = self.flavour_default("lr", lr)
        self.decay = 0.0 if decay is _UNSET else decay
        self.initial_decay = self.decay
        self.clipnorm = kwargs.get("clipnorm")
        self.clipvalue = kwargs.get("clipvalue")
        # the last clip key: the flavour's clip checks run (``recheck_assignment``)
        self.global_clipnorm = kwargs.get("global_clipnorm")
        self._engine: Engine = select_engine(kwargs.get("engine"))
        self.iterations = 0
        self._scalars: dict[str, float] = dict(self.scalar_state)
        self._binding = Binding()
        self._slots: list[tuple[np.ndarray, ...]] = []

    # ---- what an algorithm defines (the built-in ones: in their flavours table) -----
    @property
    def variant(self) -> Variant | None:
        """This optimizer's entry of its class's ``flavours`` table (None: no table)."""
        return type(self).flavours.get(self.flavour)

    def _defined(self) -> Variant:
        variant = self.variant
        if variant is None:
            raise NotImplementedError(
                f"{type(self).__name__} defines neither a flavours table nor rule, "
                "slot_names() and coefficients()"
            )
        return variant

    @property
    def rule(self) -> Callable[..., tuple[Any, ...]]:
        """The per-element rule of this optimizer's flavour and flags."""
        return self._defined().rule_for(self)

    @property
    def scalar_state(self) -> Mapping[str, float]:
        """Host-side scalars kept across steps, with their start values."""
        variant = self.variant
        return {} if variant is None else variant.scalar_state

    def slot_names(self) -> tuple[str, ...]:
        """Names of the per-parameter arrays, in the order the rule takes them."""
        return self._defined().slots_for(self)

    def slot_starts(self) -> tuple[float, ...]:
        """The value each slot starts at (0.0 but for e.g. Adagrad's accumulator)."""
        variant = self.variant
        starts = {} if variant is None else variant.slot_start
        return tuple(
            float(getattr(self, starts[n], 0.0)) if n in starts else 0.0
            for n in self.slot_names()
        )

    def coefficients(self, t: Any, lr: Any, scalars: Mapping[str, Any]) -> NamedTuple:
        """The coefficients of step ``t`` handed to the rule."""
        return self._defined().coefficients(self, t, lr, scalars)

    def next_scalars(self, t: Any, scalars: Mapping[str, Any]) -> dict[str, Any]:
        """The host-side scalars after step ``t`` (default: unchanged)."""
        variant = self.variant
        if variant is None or variant.next_scalars is None:
            return dict(scalars)
        return variant.next_scalars(self, t, scalars)

    def fixed_hyperparameters(self) -> dict[str, Any]:
        """The hyperparameters a flavour has not (outside ``config_keys``), at the
        values its step functions read (RMSprop's momentum 0 for keras22)."""
        names = [
            name
            for klass in type(self).__mro__
            for name, attribute in vars(klass).items()
            if isinstance(attribute, (Hyperparameter, Flag))
        ]
        return {
            name: getattr(self, name)
            for name in dict.fromkeys(names)
            if name not in self.config_keys and hasattr(self, "_hyper_" + name)
        }

    def step_functions(self) -> tuple[Callable[..., Any], Callable[..., Any]]:
        """``coefficients`` and ``next_scalars`` as plain functions of (opt, ...), for
        front ends that trace them with stand-in optimizers (JAX)."""
        variant = self.variant
        if variant is None:
            return type(self).coefficients, type(self).next_scalars
        return variant.coefficients, variant.next_scalars or _unchanged

    def check_scalars(self, scalars: Mapping[str, Any]) -> dict[str, float]:
        """``scalars`` (restored host scalars: ``set_weights``, a torch state dict) as
        Python floats, each a finite real number; ``ValueError`` naming the first that
        is not. Subclasses narrow the range where the algorithm defines one."""
        checked = {}
        for name in self.scalar_state:
            if name not in scalars:
                raise ValueError(f"{name} is missing from the restored state")
            checked[name] = check_number(name, scalars[name], low=-math.inf)
        return checked

    def legacy_slot_names(self) -> tuple[str, ...]:
        """Slots that appear in weight lists as one (1,)-shaped dummy per parameter but are
        never used (Adam's ``vhat`` without AMSGrad, kept for Keras's layout)."""
        variant = self.variant
        if variant is None or variant.legacy_slots is None:
            return ()
        return variant.legacy_slots(self)

    # ---- helpers for algorithms ----------------------------------------------------
    def resolve_epsilon(self, epsilon: float | None) -> float:
        """``None`` means the flavour's default (Keras 2.2: ``backend.epsilon()`` now;
        tf.keras also for 0); otherwise a finite number >= 0."""
        framework = FRAMEWORKS[self.flavour]
        if epsilon is None or (framework.zero_epsilon_is_default and epsilon == 0):
            variant = self.variant
            if variant is not None and "epsilon" in variant.defaults:
                return variant.defaults["epsilon"]
            return backend.epsilon()
        return check_number("epsilon", epsilon)

    def flavour_default(self, name: str, value: Any) -> Any:
        """``value``, or the flavour's default of ``name`` when ``value`` is a
        ``default(...)`` marker (not given); ``TypeError`` when the framework has no
        default and it was not given."""
        variant = self.variant
        if not isinstance(value, default) or variant is None:
            return value
        chosen = variant.defaults.get(name, value)
        if chosen is REQUIRED:
            raise TypeError(
                f"{type(self).__name__}(flavour={self.flavour!r}) needs {name}: "
                f"{FRAMEWORKS[self.flavour].library} has no default for it"
            )
        return float(chosen) if isinstance(chosen, default) else chosen

    def knob(self, name: str, value: Any) -> Any:
        """A hyperparameter only some flavours have (RMSprop's ``centered``): ``value``
        (None: the flavour's default) where this flavour has it; where it has not, only
        the value that means "off" is accepted, else ``ValueError`` naming the flavours
        that have it."""
        variant = self.variant
        if variant is not None and name in variant.knobs:
            return variant.knobs[name] if value is None else value
        off = type(self).knobs_off[name]
        if value is None or (not isinstance(value, str) and value == off):
            return off
        having = [f for f, v in type(self).flavours.items() if name in v.knobs]
        raise ValueError(
            f"{type(self).__name__}(flavour={self.flavour!r}) has no {name} "
            f"({FRAMEWORKS[self.flavour].library} has none); flavours with it: "
            f"{', '.join(having)}"
        )

    def finish_flavour(self) -> None:
        """The end of a built-in optimizer's ``__init__``: the flavour's own checks, and
        its extra hyperparameters added to ``config_keys``."""
        variant = self.variant
        if variant is None:
            return
        if variant.check is not None:
            variant.check(self)
        extra = tuple(k for k in variant.knobs if k not in type(self).config_keys)
        if extra or variant.omit:
            own = tuple(k for k in type(self).config_keys if k not in variant.omit)
            self.config_keys = own + extra
        self._finished = True

    def recheck_assignment(self, name: str, before: Any) -> None:
        """The constructor's checks that involve hyperparameter ``name``, run again when
        it is assigned later (``opt.clipvalue = 0.5``, ``opt.momentum = 0.9``), so an
        optimizer never holds settings its flavour refuses (which it would silently
        ignore, or compute otherwise than the framework, and whose config
        ``from_config`` would refuse): the flavour's clip keys and their combinations,
        its knobs (only the "off" value of one it has not), the arguments it omits
        (they keep their value) and its own checks. ``before``: the value the attribute
        had; it gets it back when this raises."""
        settings = self.__dict__
        if name in _CLIP_KEYS:
            if all("_hyper_" + key in settings for key in _CLIP_KEYS):
                self._check_clips()
            return
        variant = self.variant
        if variant is None or not settings.get("_finished", False):
            return  # the constructor checks its arguments itself
        value = settings["_hyper_" + name]
        since = variant.zero_fixed.get(name)
        if since is not None and (since == CONSTRUCTED or self.built):
            check_zero_unchanged(name, before, value, since)
        if name in type(self).knobs_off:
            self.knob(name, value)
        if name in variant.omit and value != before:
            self.refuse_omitted(name)
        if variant.check is not None:
            variant.check(self)

    def refuse_omitted(self, name: str) -> None:
        """``ValueError``: this flavour's framework has no argument ``name`` (one of
        the variant's ``omit``), naming the flavours that have it."""
        having = [f for f, v in type(self).flavours.items() if name not in v.omit]
        raise ValueError(
            f"{type(self).__name__}(flavour={self.flavour!r}) has no {name} "
            f"({FRAMEWORKS[self.flavour].library} has no such argument); flavours "
            f"with it: {', '.join(having)}"
        )

    def _check_flavour_of_class(self, flavour: Any) -> str:
        if flavour is None:
            return DEFAULT_FLAVOUR
        flavour = check_flavour(flavour)
        if flavour != DEFAULT_FLAVOUR and flavour not in type(self).flavours:
            defined = [DEFAULT_FLAVOUR, *type(self).flavours]
            raise ValueError(
                f"{type(self).__name__} has no flavour {flavour!r}: it defines "
                f"{', '.join(dict.fromkeys(defined))}"
            )
        return flavour

    def _check_clips(self) -> None:
        """The flavour's clip keys (global_clipnorm only where it has one) and the
        combinations its framework accepts."""
        self._check_global_clipnorm(self.global_clipnorm)
        framework = FRAMEWORKS[self.flavour]
        if framework.check_clips is not None:
            framework.check_clips(self.clipnorm, self.clipvalue, self.global_clipnorm)

    def _check_global_clipnorm(self, value: Any) -> Any:
        if value is not None and value != 0:
            framework = FRAMEWORKS[self.flavour]
            if "global_clipnorm" not in framework.clip_keys:
                having = [
                    f
                    for f, fw in FRAMEWORKS.items()
                    if "global_clipnorm" in fw.clip_keys
                ]
                raise ValueError(
                    f"flavour={self.flavour!r} has no global_clipnorm (its clipnorm "
                    f"already clips by the global norm); flavours with it: "
                    f"{', '.join(having)}"
                )
        return value

    # ---- the step ------------------------------------------------------------------
    @property
    def engine(self) -> str:
        """The name of the engine that runs this optimizer's steps."""
        return self._engine.name

    @property
    def clipping(self) -> Clipping:
        """``clipnorm`` and ``clipvalue`` as the engines use them (after ``preclipping``)."""
        return self._clippings()[1]

    @property
    def preclipping(self) -> PerTensorClipping | None:
        """The clipping of each tensor on its own before the step (tf.keras, Keras 3)."""
        return self._clippings()[0]

    def _clippings(self) -> tuple[PerTensorClipping | None, Clipping]:
        return FRAMEWORKS[self.flavour].clipping(
            self.clipnorm, self.clipvalue, self.global_clipnorm
        )

    @property
    def built(self) -> bool:
        """Whether the optimizer is bound to its parameters (after ``build`` or a step)."""
        return self._binding.params is not None

    def decayed_lr(self) -> float:
        """The learning rate of the next step: lr * (1 / (1 + decay * iterations)), with the
        counter before the step, when the optimizer was built with decay > 0 (Keras 2.2)."""
        return keras_decayed_lr(
            self.lr, self.decay, self.iterations, self.initial_decay
        )

    def step_coefficients(
        self, t: int, scalars: Mapping[str, float]
    ) -> tuple[NamedTuple, dict[str, float]]:
        """The rule's coefficients of step ``t`` (with ``iterations`` = t - 1 for decay)
        and the host scalars after it, as Python floats."""
        lr = keras_decayed_lr(self.lr, self.decay, t - 1, self.initial_decay)
        coefficients = self.coefficients(t, lr, scalars)
        after = self.next_scalars(t, scalars)
        return (
            type(coefficients)(*map(float, coefficients)),
            {k: float(v) for k, v in after.items()},
        )

    def build(self, params: Sequence[np.ndarray]) -> None:
        """Create the zero slots for ``params`` now (``apply_gradients`` does it on its
        first call); needed before ``set_weights`` on a fresh optimizer."""
        checked = self._binding.build(params)
        if checked is not None:
            arrays = self._binding.bind(checked)
            self._slots = self._allocate_slots(arrays)

    def rebind(self) -> None:
        """Forget the parameters this optimizer is bound to and their slots: the next
        ``build`` or step binds it to new parameters, with fresh zero slots. What Keras
        2.2.4 keeps carries on: ``iterations`` (so the decayed learning rate and the bias
        corrections continue), the host scalars (Nadam's ``m_schedule``) and the
        hyperparameters. ``Model.compile`` calls it, as compiling one optimizer into a
        second model does in Keras; without it a different parameter set raises."""
        self._binding = Binding()
        self._slots = []

    def apply_gradients(
        self,
        grads_and_params: Iterable[tuple[Any, np.ndarray]],
        constraints: Sequence[Callable[[np.ndarray], Any] | None] | None = None,
    ) -> None:
        """One optimizer step over every (gradient, parameter) pair, in place.

        ``constraints``: None, or one entry per pair, None or a callable (e.g.
        ``gradstep.constraints.max_norm(2)``) applied to the updated parameter within the
        step, as Keras 2.2 does (``new_p = constraint(new_p)``), whatever the engine.

        Raises before anything changes when a pair is malformed: a ``None`` gradient, a
        shape mismatch, a parameter that is not a writeable floating-point NumPy array, or
        parameters that differ from those of the first call; and when a constraint fails,
        after restoring the parameters and slots (see ``_constraints``).
        """
        grads, params = self._binding.pairs(grads_and_params)
        constrained = check_constraints(constraints, len(params))
        if self.built:
            slots = self._slots
        else:
            slots = self._allocate_slots(params)
        t = self._next_iteration()
        coefficients, scalars = self.step_coefficients(t, self._scalars)
        guard = ConstrainedStep(constrained, params, slots if self.built else ())
        preclipping, clipping = self._clippings()
        stepped = grads
        if preclipping is not None:
            grads = preclipping.apply(grads, lambda g: global_norm([g]))
        self._engine.step(self.rule, coefficients, params, grads, slots, clipping)
        guard.apply()
        self._binding.stepped(stepped)
        self._slots = slots
        self.iterations = t
        self._scalars = scalars

    def _next_iteration(self) -> int:
        """The counter after the next step; ``OverflowError`` when it would pass
        ``2**63 - 1`` (the counter is an int64 in the weights, as in Keras), raised
        before the step changes anything."""
        t = self.iterations + 1
        if t > MAX_ITERATIONS:
            raise OverflowError(
                f"iterations is {self.iterations}, the largest an int64 counter holds; "
                "another step would overflow it (set_weights a smaller counter)"
            )
        return t

    def _allocate_slots(
        self, params: Sequence[np.ndarray]
    ) -> list[tuple[np.ndarray, ...]]:
        starts = self.slot_starts()
        slots = self._engine.allocate_slots(params, len(starts))
        for k, start in enumerate(starts):
            if start != 0.0:
                for arrays in slots:
                    arrays[k][...] = start
        return slots

    # ---- configs -------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Hyperparameters with Keras 2.2 names; ``clipnorm``/``clipvalue`` (and
        ``global_clipnorm``) only when set, ``flavour`` only when not "keras22" (so a
        Keras 2.2 config stays one Keras 2.2 reads)."""
        config: dict[str, Any] = {}
        if self.flavour != DEFAULT_FLAVOUR:
            config["flavour"] = self.flavour
        if self.clipnorm is not None:
            config["clipnorm"] = self.clipnorm
        if self.clipvalue is not None:
            config["clipvalue"] = self.clipvalue
        if self.global_clipnorm is not None:
            config["global_clipnorm"] = self.global_clipnorm
        for key in self.config_keys:
            config[key] = getattr(self, key)
        return config

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Optimizer:
        """Build an optimizer from ``get_config()``'s output."""
        return cls(**config)

    # ---- weights -------------------------------------------------------------------
    def weight_layout(self) -> WeightLayout:
        """The names and shapes of ``get_weights()``'s arrays (see ``_weights``)."""
        params = self._binding.params
        return WeightLayout(
            scalar_state=self.scalar_state,
            slot_names=self.slot_names(),
            legacy_slot_names=self.legacy_slot_names(),
            keras224_omits=self.keras224_omits,
            shapes=None if params is None else tuple(p.shape for p in params),
        )

    def get_weights(self) -> list[np.ndarray]:
        """The complete state as arrays, in Keras 2.3's layout: ``iterations`` (0-d int64),
        the host scalars (Nadam's ``m_schedule``), then each slot for every parameter.
        Empty before the first step or ``build``, as in Keras."""
        params = self._binding.params
        if params is None:
            return []
        return self.weight_layout().pack(
            self.iterations, self._scalars, self._slots, [p.dtype for p in params]
        )

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Restore ``get_weights()``'s output, or Keras 2.2.4's shorter lists (without
        ``iterations`` for RMSprop/Adagrad/Adadelta, without ``m_schedule`` for Nadam).
        Every length, shape and value is checked before anything is assigned."""
        state = self.weight_layout().unpack(weights)
        if state is None:
            return
        scalars = self.check_scalars(state.scalars)
        self.iterations = state.iterations
        self._scalars = scalars
        n = len(self._slots)
        for k in range(len(self.slot_names())):
            for i, slots in enumerate(self._slots):
                np.copyto(slots[k], state.slots[k * n + i], casting="unsafe")

    # ---- misc ----------------------------------------------------------------------
    @classmethod
    def _accepted_keywords(cls) -> list[str]:
        import inspect

        own = [
            name
            for name, p in inspect.signature(cls.__init__).parameters.items()
            if name != "self" and p.kind is p.POSITIONAL_OR_KEYWORD
        ]
        return own + list(_OPTIONAL_KEYWORDS)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
