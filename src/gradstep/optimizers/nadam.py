"""Nadam as in Keras 2.2: Adam with Nesterov momentum and Dozat's momentum schedule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np

from ..kernels.elementwise import sqrt
from ._base import Optimizer, default
from ._flavours import REQUIRED, Variant
from ._hyper import Hyperparameter
from ._registry import register

__all__ = ["Nadam"]


class NadamCoefficients(NamedTuple):
    lr: float
    beta_1: float
    one_minus_beta_1: float
    beta_2: float
    one_minus_beta_2: float
    one_minus_beta_2_t: float
    one_minus_mu_t: float
    mu_next: float
    one_minus_schedule_t: float
    one_minus_schedule_next: float
    epsilon: float


def nadam_momentum(beta_1, schedule_decay, t, base=0.96):
    """mu_t, the momentum of step t under Dozat's schedule."""
    return beta_1 * (1.0 - 0.5 * base ** (t * schedule_decay))


def nadam_rule(p, g, m, v, c):
    g_prime = g / c.one_minus_schedule_t
    m = c.beta_1 * m + c.one_minus_beta_1 * g
    m_prime = m / c.one_minus_schedule_next
    v = c.beta_2 * v + c.one_minus_beta_2 * (g * g)
    v_prime = v / c.one_minus_beta_2_t
    m_bar = c.one_minus_mu_t * g_prime + c.mu_next * m_prime
    return p - c.lr * m_bar / (sqrt(v_prime) + c.epsilon), m, v


class NesterovAdamCoefficients(NamedTuple):
    lr: float
    beta_1: float
    one_minus_beta_1: float
    beta_2: float
    one_minus_beta_2: float
    one_minus_beta_1_t: float
    one_minus_beta_1_next: float
    one_minus_beta_2_t: float
    epsilon: float


def nesterov_adam_rule(p, g, m, v, c):
    """optax.nadam: Adam's bias corrections with a Nesterov look-ahead, no schedule."""
    m = c.beta_1 * m + c.one_minus_beta_1 * g
    v = c.beta_2 * v + c.one_minus_beta_2 * (g * g)
    m_hat = c.beta_1 * (m / c.one_minus_beta_1_next) + c.one_minus_beta_1 * (
        g / c.one_minus_beta_1_t
    )
    return p - c.lr * m_hat / (sqrt(v / c.one_minus_beta_2_t) + c.epsilon), m, v


def times(m_schedule, mu):
    """The schedule's running product, advanced: ``m_schedule * mu``."""
    return m_schedule * mu


def torch_times(m_schedule, mu):
    """torch.optim.NAdam's ``mu_product *= mu``: in float32 where the product is held
    in float32 (a ``np.float32``: torch keeps it in its default dtype's scalar dtype,
    float32 unless the default dtype is float64, and so does gradstep.torch), the
    factor rounded to float32 first as torch rounds a Python number for a float32
    tensor; the result as a Python float, which torch's coefficients then use in
    float64. Otherwise in the product's own precision."""
    if isinstance(m_schedule, np.float32):
        return float(m_schedule * np.float32(mu))
    return m_schedule * mu


def scheduled_coefficients(base, fixed_decay=None, product=times):
    """The coefficients of Dozat's schedule with ``base`` ** (t * schedule_decay)
    (``fixed_decay``: a constant in place of the ``schedule_decay`` hyperparameter;
    ``product``: how the running product advances)."""

    def coefficients(opt, t, lr, scalars):
        decay = opt.schedule_decay if fixed_decay is None else fixed_decay
        mu_t = nadam_momentum(opt.beta_1, decay, t, base)
        mu_next = nadam_momentum(opt.beta_1, decay, t + 1, base)
        schedule_t = product(scalars["m_schedule"], mu_t)
        schedule_next = schedule_t * mu_next
        return NadamCoefficients(
            lr=lr,
            beta_1=opt.beta_1,
            one_minus_beta_1=1.0 - opt.beta_1,
            beta_2=opt.beta_2,
            one_minus_beta_2=1.0 - opt.beta_2,
            one_minus_beta_2_t=1.0 - opt.beta_2**t,
            one_minus_mu_t=1.0 - mu_t,
            mu_next=mu_next,
            one_minus_schedule_t=1.0 - schedule_t,
            one_minus_schedule_next=1.0 - schedule_next,
            epsilon=opt.epsilon,
        )

    return coefficients


def scheduled_next(base, fixed_decay=None, product=times):
    def next_scalars(opt, t, scalars):
        decay = opt.schedule_decay if fixed_decay is None else fixed_decay
        mu_t = nadam_momentum(opt.beta_1, decay, t, base)
        return {"m_schedule": product(scalars["m_schedule"], mu_t)}

    return next_scalars


def nesterov_adam_coefficients(opt, t, lr, scalars):
    return NesterovAdamCoefficients(
        lr,
        opt.beta_1,
        1.0 - opt.beta_1,
        opt.beta_2,
        1.0 - opt.beta_2,
        1.0 - opt.beta_1**t,
        1.0 - opt.beta_1 ** (t + 1),
        1.0 - opt.beta_2**t,
        opt.epsilon,
    )


# tf_keras's legacy Nadam computes 0.96 ** (t * 0.004) with 0.96 as a float32 constant.
TF_FLOAT32_096 = 0.9599999785423279


def _scheduled(base=0.96, omit=(), fixed_decay=None, product=times, **defaults):
    return Variant(
        nadam_rule,
        scheduled_coefficients(base, fixed_decay, product),
        ("m", "v"),
        defaults=defaults,
        next_scalars=scheduled_next(base, fixed_decay, product),
        scalar_state={"m_schedule": 1.0},
        omit=omit,
    )


FLAVOURS = {
    "keras22": _scheduled(),
    "tf_keras": _scheduled(TF_FLOAT32_096, lr=0.001, epsilon=1e-7),
    # Keras 3: 0.96 ** t, i.e. the schedule with schedule_decay 1, not a knob there.
    "keras3": _scheduled(
        omit=("schedule_decay",),
        fixed_decay=1.0,
        lr=0.001,
        epsilon=1e-7,
        schedule_decay=1.0,
    ),
    "torch": replace(
        _scheduled(lr=0.002, epsilon=1e-8, product=torch_times),
        state_names={"m": "exp_avg", "v": "exp_avg_sq", "m_schedule": "mu_product"},
        group_names={"epsilon": "eps", "schedule_decay": "momentum_decay"},
    ),
    "optax": Variant(
        nesterov_adam_rule,
        nesterov_adam_coefficients,
        ("m", "v"),
        state_names={"m": "mu", "v": "nu"},
        defaults={"lr": REQUIRED, "epsilon": 1e-8, "schedule_decay": 0.0},
        omit=("schedule_decay",),
    ),
}


@register("nadam")
class Nadam(Optimizer):
    """Nesterov Adam with a warming momentum schedule.

    Update, per element, with t = iterations + 1, sd = schedule_decay, m_schedule the
    running product of mu (1.0 at the start, shared by all parameters) and m, v zeros::

        mu_t = beta_1 * (1 - 0.5 * 0.96**(t * sd))
        mu_next = beta_1 * (1 - 0.5 * 0.96**((t + 1) * sd))
        schedule_t = m_schedule * mu_t;  schedule_next = schedule_t * mu_next
        m_schedule = schedule_t
        g' = g / (1 - schedule_t)
        m = beta_1 * m + (1 - beta_1) * g;      m' = m / (1 - schedule_next)
        v = beta_2 * v + (1 - beta_2) * g**2;   v' = v / (1 - beta_2**t)
        m_bar = (1 - mu_t) * g' + mu_next * m'
        p = p - lr * m_bar / (sqrt(v') + eps)

    There is no learning-rate decay: ``decay=`` is an unexpected keyword, as in Keras.

    Args:
        lr: learning rate, float >= 0 (``learning_rate`` is an alias). Default 0.002.
        beta_1, beta_2: decay rates, in [0, 1). Defaults 0.9 and 0.999.
        epsilon: fuzz factor, float >= 0; None means ``backend.epsilon()`` (1e-7).
        schedule_decay: the momentum schedule's rate, float >= 0. Default 0.004.
        clipnorm, clipvalue: see ``Optimizer``.
        flavour: whose numerics: "keras22" (default: the equations above), "tf_keras",
            "keras3", "torch" or "optax" (their equations and defaults: the
            ``FLAVOURS`` table above, docs/flavours.md).

    Differs from: Keras 2.2.4 keeps ``m_schedule`` out of its weights, so the schedule
    restarts after a reload; gradstep saves it (second weight, as in Keras 2.3).
    torch.optim.NAdam computes the same update (eps 1e-8; its ``mu_product`` in float32
    under torch's default dtype: ``torch_times``); Keras 3 drops the 0.004 factor
    from the exponent; optax.nadam has no schedule.

    References:
        Dozat, "Incorporating Nesterov Momentum into Adam", ICLR 2016 workshop.
        Sutskever et al., "On the importance of initialization and momentum in deep
        learning", ICML 2013.

    Example:
        >>> import numpy as np
        >>> from gradstep.optimizers import Nadam
        >>> p = np.array([1.0])
        >>> Nadam(lr=0.1).apply_gradients([(np.array([0.5]), p)])
        >>> p.round(6)
        array([0.894355])
    """

    config_keys = ("lr", "beta_1", "beta_2", "epsilon", "schedule_decay")
    keras224_omits = ("m_schedule",)
    flavours = FLAVOURS
    has_decay = False
    beta_1 = Hyperparameter(high=1.0)
    beta_2 = Hyperparameter(high=1.0)
    epsilon = Hyperparameter()
    schedule_decay = Hyperparameter()

    def __init__(
        self,
        lr: float = default(0.002),
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float | None = None,
        schedule_decay: float = default(0.004),
        **kwargs: Any,
    ) -> None:
        super().__init__(lr=lr, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = self.resolve_epsilon(epsilon)
        if "schedule_decay" in self.variant.omit and not isinstance(
            schedule_decay, default
        ):
            self.refuse_omitted("schedule_decay")
        self.schedule_decay = self.flavour_default("schedule_decay", schedule_decay)
        self.finish_flavour()

    def momentum(self, t: int) -> float:
        """mu_t, the momentum of step t under the schedule."""
        return nadam_momentum(self.beta_1, self.schedule_decay, t)

    def check_scalars(self, scalars: Mapping[str, Any]) -> dict[str, float]:
        """``m_schedule`` is a product of momenta in [0, 1): in (0, 1]."""
        checked = super().check_scalars(scalars)
        if "m_schedule" not in checked:
            return checked
        value = checked["m_schedule"]
        if not 0.0 < value <= 1.0:
            raise ValueError(f"m_schedule must be in (0, 1], got {value!r}")
        return checked
