"""Adadelta as in Keras 2.2: lr (default 1.0) scales only the parameter step."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, NamedTuple

from ..kernels.elementwise import sqrt
from ._base import Optimizer, default
from ._flavours import REQUIRED, Variant
from ._hyper import Hyperparameter
from ._registry import register

__all__ = ["Adadelta"]


class AdadeltaCoefficients(NamedTuple):
    lr: float
    rho: float
    one_minus_rho: float
    epsilon: float


def adadelta_rule(p, g, a, d, c):
    a = c.rho * a + c.one_minus_rho * (g * g)
    delta = g * sqrt(d + c.epsilon) / sqrt(a + c.epsilon)
    d = c.rho * d + c.one_minus_rho * (delta * delta)
    return p - c.lr * delta, a, d


def adadelta_coefficients(opt, t, lr, scalars):
    return AdadeltaCoefficients(lr, opt.rho, 1.0 - opt.rho, opt.epsilon)


def _adadelta(**defaults):
    return Variant(
        adadelta_rule,
        adadelta_coefficients,
        ("accumulator", "delta_accumulator"),
        defaults=defaults,
    )


# The same equations in all five frameworks; only the defaults differ.
FLAVOURS = {
    "keras22": _adadelta(),
    "tf_keras": _adadelta(lr=0.001, rho=0.95, epsilon=1e-7),
    "keras3": _adadelta(lr=0.001, rho=0.95, epsilon=1e-7),
    "torch": replace(
        _adadelta(lr=1.0, rho=0.9, epsilon=1e-6),
        state_names={"accumulator": "square_avg", "delta_accumulator": "acc_delta"},
        group_names={"epsilon": "eps"},
    ),
    "optax": replace(
        _adadelta(lr=REQUIRED, rho=0.9, epsilon=1e-6),
        state_names={"accumulator": "e_g", "delta_accumulator": "e_x"},
    ),
}


@register("adadelta")
class Adadelta(Optimizer):
    """Adadelta: step sizes from running averages of squared gradients and squared updates.

    Update, per element, with lr_t the decayed learning rate, a the gradient accumulator
    and d the delta accumulator (both zeros)::

        a = rho * a + (1 - rho) * g**2
        delta = g * sqrt(d + eps) / sqrt(a + eps)      (new a, old d)
        p = p - lr_t * delta
        d = rho * d + (1 - rho) * delta**2             (delta without lr)

    Args:
        lr: learning rate, float >= 0 (``learning_rate`` is an alias). Default 1.0.
        rho: decay of the running averages, float in [0, 1): 0 keeps no history
            (the latest squared gradient alone); 1 is refused: no gradient would ever
            enter the average, which stays 0 (steps divided by epsilon alone; with
            epsilon=0, NaN on the first step).
            Default 0.95.
        epsilon: fuzz factor, float >= 0; None means ``backend.epsilon()`` (1e-7).
        decay: time-based learning-rate decay, float >= 0. Default 0.
        clipnorm, clipvalue: see ``Optimizer``.
        flavour: whose numerics: "keras22" (default: the equations above), "tf_keras",
            "keras3", "torch" or "optax" (their equations and defaults: the
            ``FLAVOURS`` table above, docs/flavours.md).

    Differs from: tf.keras and Keras 3 default to lr=0.001; torch.optim.Adadelta and optax
    default to rho=0.9, eps=1e-6. The update form is the same everywhere.

    References:
        Zeiler, "ADADELTA: An Adaptive Learning Rate Method", arXiv:1212.5701, 2012.

    Example:
        >>> import numpy as np
        >>> from gradstep.optimizers import Adadelta
        >>> p = np.array([1.0])
        >>> Adadelta().apply_gradients([(np.array([1.0]), p)])
        >>> p.round(6)
        array([0.998586])
    """

    config_keys = ("lr", "rho", "decay", "epsilon")
    keras224_omits = ("iterations",)
    flavours = FLAVOURS
    rho = Hyperparameter(high=1.0)
    epsilon = Hyperparameter()

    def __init__(
        self,
        lr: float = default(1.0),
        rho: float = default(0.95),
        epsilon: float | None = None,
        decay: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(lr=lr, decay=decay, **kwargs)
        self.rho = self.flavour_default("rho", rho)
        self.epsilon = self.resolve_epsilon(epsilon)
        self.finish_flavour()
