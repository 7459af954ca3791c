"""Stochastic gradient descent with momentum and Nesterov momentum, as in Keras 2.2."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ._base import Optimizer, default
from ._hyper import Flag, Hyperparameter
from ._registry import register

__all__ = ["SGD"]


class SGDCoefficients(NamedTuple):
    lr: float
    momentum: float


def momentum_rule(p, g, m, c):
    v = c.momentum * m - c.lr * g
    return p + v, v


def nesterov_rule(p, g, m, c):
    v = c.momentum * m - c.lr * g
    return p + c.momentum * v - c.lr * g, v


@register("sgd")
class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum.

    Update, per element, with lr_t the decayed learning rate and m the velocity (zeros)::

        v = momentum * m - lr_t * g
        m = v
        p = p + v                              (nesterov=False)
        p = p + momentum * v - lr_t * g        (nesterov=True)

    lr_t = lr * 1 / (1 + decay * iterations), with ``iterations`` counted before the step.

    Args:
        lr: learning rate, float >= 0 (``learning_rate`` is an alias). Default 0.01.
        momentum: float >= 0. Default 0.
        decay: time-based learning-rate decay, float >= 0. Default 0.
        nesterov: whether to apply Nesterov momentum. Default False.
        clipnorm, clipvalue: see ``Optimizer``.

    Differs from: torch.optim.SGD and optax.sgd keep b = mu * b + g and step by lr * b, so
    their velocity does not carry the learning rate of past steps; they agree with Keras
    only for a constant learning rate. Keras 2.2 keeps a velocity slot even when
    momentum = 0, and so does gradstep.

    References:
        Sutskever, Martens, Dahl, Hinton, "On the importance of initialization and momentum
        in deep learning", ICML 2013.

    Example:
        >>> import numpy as np
        >>> from gradstep.optimizers import SGD
        >>> p = np.array([1.0, -2.0])
        >>> SGD(lr=0.1, momentum=0.9).apply_gradients([(2 * p, p)])
        >>> p
        array([ 0.8, -1.6])
    """

    config_keys = ("lr", "momentum", "decay", "nesterov")
    momentum = Hyperparameter()
    nesterov = Flag()

    def __init__(
        self,
        lr: float = default(0.01),
        momentum: float = 0.0,
        decay: float = 0.0,
        nesterov: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(lr=lr, decay=decay, **kwargs)
        self.momentum = momentum
        self.nesterov = nesterov

    @property
    def rule(self):
        return nesterov_rule if self.nesterov else momentum_rule

    def slot_names(self) -> tuple[str, ...]:
        return ("moment",)

    def coefficients(
        self, t: int, lr: float, scalars: Mapping[str, float]
    ) -> SGDCoefficients:
        return SGDCoefficients(lr=lr, momentum=self.momentum)
