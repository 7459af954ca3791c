"""Adam and AMSGrad as in Keras 2.2: bias corrections folded into the step ("eps-hat")."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, NamedTuple

from ..kernels.elementwise import maximum, sqrt
from ._base import Optimizer, default
from ._flavours import REQUIRED, Variant
from ._hyper import Flag, Hyperparameter
from ._registry import register

__all__ = ["Adam"]


class AdamCoefficients(NamedTuple):
    lr_t: float
    beta_1: float
    one_minus_beta_1: float
    beta_2: float
    one_minus_beta_2: float
    epsilon: float


class BiasCorrectedCoefficients(NamedTuple):
    lr_t: float
    beta_1: float
    one_minus_beta_1: float
    beta_2: float
    one_minus_beta_2: float
    sqrt_one_minus_beta_2_t: float
    one_minus_beta_2_t: float
    epsilon: float


def adam_rule(p, g, m, v, c):
    m = c.beta_1 * m + c.one_minus_beta_1 * g
    v = c.beta_2 * v + c.one_minus_beta_2 * (g * g)
    return p - c.lr_t * m / (sqrt(v) + c.epsilon), m, v


def amsgrad_rule(p, g, m, v, vhat, c):
    m = c.beta_1 * m + c.one_minus_beta_1 * g
    v = c.beta_2 * v + c.one_minus_beta_2 * (g * g)
    vhat = maximum(vhat, v)
    return p - c.lr_t * m / (sqrt(vhat) + c.epsilon), m, v, vhat


def corrected_rule(p, g, m, v, c):
    m = c.beta_1 * m + c.one_minus_beta_1 * g
    v = c.beta_2 * v + c.one_minus_beta_2 * (g * g)
    return p - c.lr_t * m / (sqrt(v) / c.sqrt_one_minus_beta_2_t + c.epsilon), m, v


def corrected_amsgrad_rule(p, g, m, v, vhat, c):
    """torch: the maximum of the raw v, bias-corrected afterwards."""
    m = c.beta_1 * m + c.one_minus_beta_1 * g
    v = c.beta_2 * v + c.one_minus_beta_2 * (g * g)
    vhat = maximum(vhat, v)
    denominator = sqrt(vhat) / c.sqrt_one_minus_beta_2_t + c.epsilon
    return p - c.lr_t * m / denominator, m, v, vhat


def corrected_max_amsgrad_rule(p, g, m, v, vhat, c):
    """optax: the maximum of the bias-corrected v."""
    m = c.beta_1 * m + c.one_minus_beta_1 * g
    v = c.beta_2 * v + c.one_minus_beta_2 * (g * g)
    vhat = maximum(vhat, v / c.one_minus_beta_2_t)
    return p - c.lr_t * m / (sqrt(vhat) + c.epsilon), m, v, vhat


def adam_coefficients(opt, t, lr, scalars):
    lr_t = lr * (sqrt(1.0 - opt.beta_2**t) / (1.0 - opt.beta_1**t))
    return AdamCoefficients(
        lr_t,
        opt.beta_1,
        1.0 - opt.beta_1,
        opt.beta_2,
        1.0 - opt.beta_2,
        opt.epsilon,
    )


def corrected_coefficients(opt, t, lr, scalars):
    one_minus_beta_2_t = 1.0 - opt.beta_2**t
    return BiasCorrectedCoefficients(
        lr / (1.0 - opt.beta_1**t),
        opt.beta_1,
        1.0 - opt.beta_1,
        opt.beta_2,
        1.0 - opt.beta_2,
        sqrt(one_minus_beta_2_t),
        one_minus_beta_2_t,
        opt.epsilon,
    )


def _slots(opt):
    return ("m", "v", "vhat") if opt.amsgrad else ("m", "v")


def _choose(plain, amsgrad):
    return lambda opt: amsgrad if opt.amsgrad else plain


def _keras(**defaults):
    return Variant(
        None,
        adam_coefficients,
        _slots,
        select=_choose(adam_rule, amsgrad_rule),
        defaults=defaults,
    )


def _corrected(amsgrad, **defaults):
    return Variant(
        None,
        corrected_coefficients,
        _slots,
        select=_choose(corrected_rule, amsgrad),
        defaults=defaults,
    )


FLAVOURS = {
    "keras22": replace(
        _keras(), legacy_slots=lambda opt: () if opt.amsgrad else ("vhat",)
    ),
    "tf_keras": _keras(lr=0.001, epsilon=1e-7),
    "keras3": _keras(lr=0.001, epsilon=1e-7),
    "torch": replace(
        _corrected(corrected_amsgrad_rule, lr=0.001, epsilon=1e-8),
        state_names={"m": "exp_avg", "v": "exp_avg_sq", "vhat": "max_exp_avg_sq"},
        group_names={"epsilon": "eps"},
    ),
    "optax": replace(
        _corrected(corrected_max_amsgrad_rule, lr=REQUIRED, epsilon=1e-8),
        state_names={"m": "mu", "v": "nu", "vhat": "nu_max"},
    ),
}


@register("adam")
class Adam(Optimizer):
    """Adam, and its AMSGrad variant.

    Update, per element, with t = iterations + 1, lr the decayed learning rate and m, v,
    vhat zeros at the start::

        lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        p = p - lr_t * m / (sqrt(v) + eps)                      (amsgrad=False)
        vhat = max(vhat, v);  p = p - lr_t * m / (sqrt(vhat) + eps)   (amsgrad=True)

    Args:
        lr: learning rate, float >= 0 (``learning_rate`` is an alias). Default 0.001.
        beta_1, beta_2: decay rates of the moment estimates, in [0, 1). 0.9 and 0.999.
        epsilon: fuzz factor, float >= 0; None means ``backend.epsilon()`` (1e-7).
        decay: time-based learning-rate decay, float >= 0. Default 0.
        amsgrad: use the maximum of past (uncorrected) v. Default False.
        clipnorm, clipvalue: see ``Optimizer``.
        flavour: whose numerics: "keras22" (default: the equations above), "tf_keras",
            "keras3", "torch" or "optax" (their equations and defaults: the
            ``FLAVOURS`` table above, docs/flavours.md).

    Differs from: torch.optim.Adam and optax.adam add eps after the bias correction
    (m_hat / (sqrt(v_hat) + eps)); Keras's eps equals theirs times sqrt(1 - beta_2**t).
    optax.amsgrad takes the maximum of the bias-corrected v. Without AMSGrad the weights
    still hold one (1,)-shaped dummy vhat per parameter, as in Keras.

    References:
        Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.
        Reddi, Kale, Kumar, "On the Convergence of Adam and Beyond", ICLR 2018.

    Example:
        >>> import numpy as np
        >>> from gradstep.optimizers import Adam
        >>> p = np.array([1.0, -1.0])
        >>> Adam(lr=0.1).apply_gradients([(np.array([0.5, -2.0]), p)])
        >>> p.round(6)
        array([ 0.900001, -0.9     ])
    """

    config_keys = ("lr", "beta_1", "beta_2", "decay", "epsilon", "amsgrad")
    beta_1 = Hyperparameter(high=1.0)
    beta_2 = Hyperparameter(high=1.0)
    epsilon = Hyperparameter()
    amsgrad = Flag(fixed_when_built=True)
    flavours = FLAVOURS

    def __init__(
        self,
        lr: float = default(0.001),
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float | None = None,
        decay: float = 0.0,
        amsgrad: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(lr=lr, decay=decay, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = self.resolve_epsilon(epsilon)
        self.amsgrad = amsgrad
        self.finish_flavour()
