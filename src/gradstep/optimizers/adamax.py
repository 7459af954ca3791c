"""Adamax as in Keras 2.2: epsilon added after the infinity-norm maximum."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, NamedTuple

from ..kernels.elementwise import maximum
from ._base import Optimizer, default
from ._flavours import REQUIRED, Variant
from ._hyper import Hyperparameter
from ._registry import register

__all__ = ["Adamax"]


class AdamaxCoefficients(NamedTuple):
    lr_t: float
    beta_1: float
    one_minus_beta_1: float
    beta_2: float
    epsilon: float


def adamax_rule(p, g, m, u, c):
    m = c.beta_1 * m + c.one_minus_beta_1 * g
    u = maximum(c.beta_2 * u, abs(g))
    return p - c.lr_t * m / (u + c.epsilon), m, u


def inside_max_rule(p, g, m, u, c):
    """torch, optax: epsilon inside the maximum."""
    m = c.beta_1 * m + c.one_minus_beta_1 * g
    u = maximum(c.beta_2 * u, abs(g) + c.epsilon)
    return p - c.lr_t * m / u, m, u


def adamax_coefficients(opt, t, lr, scalars):
    lr_t = lr / (1.0 - opt.beta_1**t)
    return AdamaxCoefficients(
        lr_t, opt.beta_1, 1.0 - opt.beta_1, opt.beta_2, opt.epsilon
    )


def _adamax(rule, **defaults):
    return Variant(rule, adamax_coefficients, ("m", "u"), defaults=defaults)


FLAVOURS = {
    "keras22": _adamax(adamax_rule),
    "tf_keras": _adamax(adamax_rule, lr=0.001, epsilon=1e-7),
    "keras3": _adamax(adamax_rule, lr=0.001, epsilon=1e-7),
    "torch": replace(
        _adamax(inside_max_rule, lr=0.002, epsilon=1e-8),
        state_names={"m": "exp_avg", "u": "exp_inf"},
        group_names={"epsilon": "eps"},
    ),
    "optax": replace(
        _adamax(inside_max_rule, lr=REQUIRED, epsilon=1e-8),
        state_names={"m": "mu", "u": "nu"},
    ),
}


@register("adamax")
class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm in place of the second moment.

    Update, per element, with t = iterations + 1, lr the decayed learning rate and m, u
    zeros at the start::

        lr_t = lr / (1 - beta_1**t)
        m = beta_1 * m + (1 - beta_1) * g
        u = max(beta_2 * u, |g|)
        p = p - lr_t * m / (u + eps)

    Args:
        lr: learning rate, float >= 0 (``learning_rate`` is an alias). Default 0.002.
        beta_1, beta_2: decay rates, in [0, 1). Defaults 0.9 and 0.999.
        epsilon: fuzz factor, float >= 0; None means ``backend.epsilon()`` (1e-7).
        decay: time-based learning-rate decay, float >= 0. Default 0.
        clipnorm, clipvalue: see ``Optimizer``.
        flavour: whose numerics: "keras22" (default: the equations above), "tf_keras",
            "keras3", "torch" or "optax" (their equations and defaults: the
            ``FLAVOURS`` table above, docs/flavours.md).

    Differs from: torch.optim.Adamax and optax.adamax put eps inside the maximum
    (u = max(beta_2 * u, |g| + eps)); tf.keras and Keras 3 default to lr=0.001.

    References:
        Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, section 7.

    Example:
        >>> import numpy as np
        >>> from gradstep.optimizers import Adamax
        >>> p = np.array([1.0])
        >>> Adamax(lr=0.1).apply_gradients([(np.array([0.5]), p)])
        >>> p.round(6)
        array([0.9])
    """

    config_keys = ("lr", "beta_1", "beta_2", "decay", "epsilon")
    beta_1 = Hyperparameter(high=1.0)
    beta_2 = Hyperparameter(high=1.0)
    epsilon = Hyperparameter()
    flavours = FLAVOURS

    def __init__(
        self,
        lr: float = default(0.002),
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float | None = None,
        decay: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(lr=lr, decay=decay, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = self.resolve_epsilon(epsilon)
        self.finish_flavour()
