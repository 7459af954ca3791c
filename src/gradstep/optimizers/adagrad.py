"""Adagrad as in Keras 2.2: the accumulator starts at 0 and epsilon is outside the root."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, NamedTuple

from ..kernels.elementwise import sqrt
from ._base import Optimizer, default
from ._flavours import REQUIRED, Variant
from ._hyper import Hyperparameter
from ._registry import register

__all__ = ["Adagrad"]


class AdagradCoefficients(NamedTuple):
    lr: float
    epsilon: float


def adagrad_rule(p, g, a, c):
    a = a + g * g
    return p - c.lr * g / (sqrt(a) + c.epsilon), a


def inside_rule(p, g, a, c):
    a = a + g * g
    return p - c.lr * g / sqrt(a + c.epsilon), a


def adagrad_coefficients(opt, t, lr, scalars):
    return AdagradCoefficients(lr, opt.epsilon)


def _accumulator(rule, defaults, start):
    return Variant(
        rule,
        adagrad_coefficients,
        ("accumulator",),
        defaults=defaults,
        knobs={"initial_accumulator_value": start},
        slot_start={"accumulator": "initial_accumulator_value"},
    )


FLAVOURS = {
    "keras22": Variant(adagrad_rule, adagrad_coefficients, ("accumulator",)),
    "tf_keras": _accumulator(adagrad_rule, {"lr": 0.001, "epsilon": 1e-7}, 0.1),
    "keras3": _accumulator(inside_rule, {"lr": 0.001, "epsilon": 1e-7}, 0.1),
    "torch": replace(
        _accumulator(adagrad_rule, {"lr": 0.01, "epsilon": 1e-10}, 0.0),
        state_names={"accumulator": "sum"},
        group_names={"epsilon": "eps", "decay": "lr_decay"},
    ),
    "optax": replace(
        _accumulator(inside_rule, {"lr": REQUIRED, "epsilon": 1e-7}, 0.1),
        state_names={"accumulator": "sum_of_squares"},
    ),
}


@register("adagrad")
class Adagrad(Optimizer):
    """Adagrad: per-element learning rates scaled by the sum of all past squared gradients.

    Update, per element, with lr_t the decayed learning rate and a the accumulator (zeros)::

        a = a + g**2
        p = p - lr_t * g / (sqrt(a) + eps)

    The first step therefore moves each element by about lr_t * sign(g).

    Args:
        lr: learning rate, float >= 0 (``learning_rate`` is an alias). Default 0.01.
        epsilon: fuzz factor, float >= 0; None means ``backend.epsilon()`` (1e-7).
        decay: time-based learning-rate decay, float >= 0. Default 0.
        clipnorm, clipvalue: see ``Optimizer``.
        flavour: whose numerics: "keras22" (default: the equations above), "tf_keras",
            "keras3", "torch" or "optax" (their equations and defaults: the
            ``FLAVOURS`` table above, docs/flavours.md).
        initial_accumulator_value: the accumulator's start, in the flavours other
            than keras22. Defaults: tf_keras, keras3, optax 0.1; torch 0.

    Differs from: tf.keras, Keras 3 and optax start the accumulator at 0.1 (Keras 3 and
    optax also put epsilon inside the root); torch.optim.Adagrad uses eps=1e-10 and its own
    lr_decay formula.

    References:
        Duchi, Hazan, Singer, "Adaptive Subgradient Methods for Online Learning and
        Stochastic Optimization", JMLR 12, 2011.

    Example:
        >>> import numpy as np
        >>> from gradstep.optimizers import Adagrad
        >>> p = np.array([1.0, -1.0])
        >>> Adagrad(lr=0.1).apply_gradients([(np.array([3.0, -0.5]), p)])
        >>> p.round(6)
        array([ 0.9, -0.9])
    """

    config_keys = ("lr", "decay", "epsilon")
    keras224_omits = ("iterations",)
    flavours = FLAVOURS
    knobs_off = {"initial_accumulator_value": 0.0}
    epsilon = Hyperparameter()
    initial_accumulator_value = Hyperparameter()

    def __init__(
        self,
        lr: float = default(0.01),
        epsilon: float | None = None,
        decay: float = 0.0,
        initial_accumulator_value: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(lr=lr, decay=decay, **kwargs)
        self.epsilon = self.resolve_epsilon(epsilon)
        self.initial_accumulator_value = self.knob(
            "initial_accumulator_value", initial_accumulator_value
        )
        self.finish_flavour()
