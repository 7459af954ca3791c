"""Flavours: whose numerics an optimizer reproduces.

``flavour="keras22"`` (the default) is Keras 2.2.4; ``"tf_keras"`` the TF 2.x legacy
optimizers (``tf_keras.optimizers.legacy``), ``"keras3"`` Keras 3, ``"torch"``
torch.optim and ``"optax"`` optax. Two levels decide what a flavour computes:

- the framework (this module): how ``clipnorm``, ``clipvalue`` and ``global_clipnorm``
  clip, which of them exist, what ``epsilon=0`` means;
- the optimizer: one ``Variant`` per flavour in the optimizer's module (its rule,
  coefficients, slots and defaults), registered in the class's ``flavours`` table.

A flavour's rule and coefficients are written in the rule language like Keras's, so every
engine and front end runs them unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..kernels.clip import Clipping, PerTensorClipping

__all__ = [
    "DEFAULT_FLAVOUR",
    "FLAVOURS",
    "FRAMEWORKS",
    "Framework",
    "REQUIRED",
    "Variant",
    "check_flavour",
]

DEFAULT_FLAVOUR = "keras22"


class _Required:
    def __repr__(self) -> str:
        return "<required>"


REQUIRED: Any = _Required()  # a default the framework does not have: must be given


@dataclass(frozen=True)
class Variant:
    """One framework's version of an optimizer.

    ``rule``: the per-element rule, or ``select(opt) -> rule`` when flags choose it;
    ``coefficients(opt, t, lr, scalars)`` and ``next_scalars(opt, t, scalars)``: as the
    ``Optimizer`` methods of those names, as plain functions; ``slots``: slot names, or a
    function of the optimizer; ``slot_start``: slot name -> the hyperparameter whose value
    the slot starts at (zeros otherwise); ``defaults``: the framework's defaults of the
    optimizer's arguments (gradstep names; ``REQUIRED`` where it has none); ``knobs``: the
    arguments beyond Keras 2.2's that this framework has, with their defaults;
    ``omit``: Keras 2.2 arguments this framework has not (left out of the config);
    ``zero_fixed``: hyperparameter -> from when on whether it is 0 cannot change
    (``_hyper.BUILT``: once the slots exist, one depends on it; ``_hyper.CONSTRUCTED``:
    from the constructor on, where the framework chooses its kernel there).
    ``state_names``: slot or host-scalar name -> the framework's own key for it in its
    optimizer's state (torch.optim's ``exp_avg``, optax's ``mu``...), where gradstep
    takes over that framework's state; ``negated_state``: the slots the framework
    keeps with the opposite sign; ``group_names``: hyperparameter -> the framework's
    name for it, where it differs (torch.optim's ``eps``), for writing that
    framework's state dicts.
    """

    rule: Callable[..., Any] | None
    coefficients: Callable[..., Any]
    slots: tuple[str, ...] | Callable[[Any], tuple[str, ...]]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    knobs: Mapping[str, Any] = field(default_factory=dict)
    select: Callable[[Any], Callable[..., Any]] | None = None
    next_scalars: Callable[..., Any] | None = None
    scalar_state: Mapping[str, float] = field(default_factory=dict)
    slot_start: Mapping[str, str] = field(default_factory=dict)
    legacy_slots: Callable[[Any], tuple[str, ...]] | None = None
    check: Callable[[Any], None] | None = None
    omit: tuple[str, ...] = ()
    zero_fixed: Mapping[str, str] = field(default_factory=dict)
    state_names: Mapping[str, str] = field(default_factory=dict)
    negated_state: tuple[str, ...] = ()
    group_names: Mapping[str, str] = field(default_factory=dict)

    def rule_for(self, opt: Any) -> Callable[..., Any]:
        return self.select(opt) if self.select is not None else self.rule

    def slots_for(self, opt: Any) -> tuple[str, ...]:
        return tuple(self.slots(opt) if callable(self.slots) else self.slots)


def _one_of_each(clipnorm: float, clipvalue: float, global_clipnorm: float) -> None:
    given = [
        name
        for name, value in (
            ("clipnorm", clipnorm),
            ("clipvalue", clipvalue),
            ("global_clipnorm", global_clipnorm),
        )
        if value
    ]
    if len(given) > 1:
        raise ValueError(
            f"flavour='keras3' clips in one way only (Keras 3 accepts one of clipnorm, "
            f"clipvalue, global_clipnorm); got {', '.join(given)}"
        )


def _not_both_norms(clipnorm: float, clipvalue: float, global_clipnorm: float) -> None:
    if clipnorm and global_clipnorm:
        raise ValueError(
            "flavour='tf_keras' takes clipnorm (per tensor) or global_clipnorm, not both "
            "(tf.keras: 'Cannot accept both `clipnorm` and `global_clipnorm`')"
        )


@dataclass(frozen=True)
class Framework:
    """What a flavour's framework does around the rule: clipping and epsilon=0.

    ``order``: "norm_then_value" (one global norm, then values: Keras 2.2, optax, and
    torch's ``clip_grad_norm_`` then ``clip_grad_value_``) or "value_then_norms"
    (tf.keras legacy: values, then each tensor's norm, then the global norm); Keras 3
    allows one kind at a time. ``norm_epsilon``: torch's ``clip_grad_norm_`` divides by
    ``norm + 1e-6``. ``steps_per_parameter``: each parameter counts its own steps (and
    keeps its own host scalars, e.g. NAdam's ``mu_product``), advanced only when it has
    a gradient (torch.optim's ``state[p]["step"]``); otherwise every parameter takes
    the optimizer's ``iterations`` (Keras). Only gradstep.torch, where a parameter may
    have no gradient in a step, can tell the two apart.
    """

    name: str
    library: str
    clip_keys: tuple[str, ...] = ("clipnorm", "clipvalue")
    per_tensor_clipnorm: bool = False
    value_first: bool = False
    norm_epsilon: float = 0.0
    zero_epsilon_is_default: bool = False
    check_clips: Callable[[float, float, float], None] | None = None
    steps_per_parameter: bool = False

    def clipping(
        self, clipnorm: float | None, clipvalue: float | None, global_clipnorm: Any
    ) -> tuple[PerTensorClipping | None, Clipping]:
        """The clipping done tensor by tensor before the step (None: none), and the
        clipping the engines do (one global norm, then values)."""
        norm = float(clipnorm) if clipnorm else 0.0
        value = float(clipvalue) if clipvalue else 0.0
        total = float(global_clipnorm) if global_clipnorm else 0.0
        if not self.per_tensor_clipnorm:
            return None, Clipping.of(norm, value, norm_epsilon=self.norm_epsilon)
        if norm or (self.value_first and value and total):
            first = PerTensorClipping.of(value if self.value_first else 0.0, norm)
            rest_value = 0.0 if self.value_first else value
            return first, Clipping.of(total, rest_value)
        return None, Clipping.of(total, value)


FRAMEWORKS: dict[str, Framework] = {
    "keras22": Framework("keras22", "Keras 2.2.4"),
    "tf_keras": Framework(
        "tf_keras",
        "tf_keras.optimizers.legacy (TF 2.x tf.keras)",
        clip_keys=("clipnorm", "clipvalue", "global_clipnorm"),
        per_tensor_clipnorm=True,
        value_first=True,
        zero_epsilon_is_default=True,
        check_clips=_not_both_norms,
    ),
    "keras3": Framework(
        "keras3",
        "Keras 3",
        clip_keys=("clipnorm", "clipvalue", "global_clipnorm"),
        per_tensor_clipnorm=True,
        check_clips=_one_of_each,
    ),
    "torch": Framework(
        "torch", "torch.optim", norm_epsilon=1e-6, steps_per_parameter=True
    ),
    "optax": Framework("optax", "optax"),
}
FLAVOURS = tuple(FRAMEWORKS)


def check_flavour(value: Any) -> str:
    """``value`` when it names a flavour, else ``ValueError`` listing them."""
    if not isinstance(value, str) or value not in FRAMEWORKS:
        raise ValueError(
            f"Unknown flavour: {value!r}; expected one of {', '.join(FLAVOURS)}"
        )
    return value
