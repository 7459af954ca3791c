"""Nadam as in Keras 2.2: Adam with Nesterov momentum and Dozat's momentum schedule."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ..kernels.elementwise import sqrt
from ._base import Optimizer, default
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


def nadam_momentum(beta_1, schedule_decay, t):
    """mu_t, the momentum of step t under Dozat's schedule."""
    return beta_1 * (1.0 - 0.5 * 0.96 ** (t * schedule_decay))


def nadam_rule(p, g, m, v, c):
    g_prime = g / c.one_minus_schedule_t
    m = c.beta_1 * m + c.one_minus_beta_1 * g
    m_prime = m / c.one_minus_schedule_next
    v = c.beta_2 * v + c.one_minus_beta_2 * (g * g)
    v_prime = v / c.one_minus_beta_2_t
    m_bar = c.one_minus_mu_t * g_prime + c.mu_next * m_prime
    return p - c.lr * m_bar / (sqrt(v_prime) + c.epsilon), m, v


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

    Differs from: Keras 2.2.4 keeps ``m_schedule`` out of its weights, so the schedule
    restarts after a reload; gradstep saves it (second weight, as in Keras 2.3).
    torch.optim.NAdam computes the same update (eps 1e-8); Keras 3 drops the 0.004 factor
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
    scalar_state = {"m_schedule": 1.0}
    keras224_omits = ("m_schedule",)
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
        schedule_decay: float = 0.004,
        **kwargs: Any,
    ) -> None:
        super().__init__(lr=lr, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = self.resolve_epsilon(epsilon)
        self.schedule_decay = schedule_decay

    rule = staticmethod(nadam_rule)

    def slot_names(self) -> tuple[str, ...]:
        return ("m", "v")

    def momentum(self, t: int) -> float:
        """mu_t, the momentum of step t under the schedule."""
        return nadam_momentum(self.beta_1, self.schedule_decay, t)

    def coefficients(
        self, t: int, lr: float, scalars: Mapping[str, float]
    ) -> NadamCoefficients:
        mu_t = nadam_momentum(self.beta_1, self.schedule_decay, t)
        mu_next = nadam_momentum(self.beta_1, self.schedule_decay, t + 1)
        schedule_t = scalars["m_schedule"] * mu_t
        schedule_next = scalars["m_schedule"] * mu_t * mu_next
        return NadamCoefficients(
            lr=lr,
            beta_1=self.beta_1,
            one_minus_beta_1=1.0 - self.beta_1,
            beta_2=self.beta_2,
            one_minus_beta_2=1.0 - self.beta_2,
            one_minus_beta_2_t=1.0 - self.beta_2**t,
            one_minus_mu_t=1.0 - mu_t,
            mu_next=mu_next,
            one_minus_schedule_t=1.0 - schedule_t,
            one_minus_schedule_next=1.0 - schedule_next,
            epsilon=self.epsilon,
        )

    def check_scalars(self, scalars: Mapping[str, Any]) -> dict[str, float]:
        """``m_schedule`` is a product of momenta in [0, 1): in (0, 1]."""
        checked = super().check_scalars(scalars)
        value = checked["m_schedule"]
        if not 0.0 < value <= 1.0:
            raise ValueError(f"m_schedule must be in (0, 1], got {value!r}")
        return checked

    def next_scalars(self, t: int, scalars: Mapping[str, float]) -> dict[str, float]:
        mu_t = nadam_momentum(self.beta_1, self.schedule_decay, t)
        return {"m_schedule": scalars["m_schedule"] * mu_t}
