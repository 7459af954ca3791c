"""RMSprop as in Keras 2.2: epsilon outside the square root, no momentum."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ..kernels.elementwise import sqrt
from ._base import Optimizer, default
from ._hyper import Hyperparameter
from ._registry import register

__all__ = ["RMSprop"]


class RMSpropCoefficients(NamedTuple):
    lr: float
    rho: float
    one_minus_rho: float
    epsilon: float


def rmsprop_rule(p, g, a, c):
    a = c.rho * a + c.one_minus_rho * (g * g)
    return p - c.lr * g / (sqrt(a) + c.epsilon), a


@register("rmsprop")
class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root mean square of its recent values.

    Update, per element, with lr_t the decayed learning rate and a the accumulator (zeros)::

        a = rho * a + (1 - rho) * g**2
        p = p - lr_t * g / (sqrt(a) + eps)

    Args:
        lr: learning rate, float >= 0 (``learning_rate`` is an alias). Default 0.001.
        rho: decay of the running average, float in [0, 1): 0 keeps no history
            (the latest squared gradient alone); 1 is refused: no gradient would ever
            enter the average, which stays 0 (steps divided by epsilon alone; with
            epsilon=0, NaN on the first step).
            Default 0.9.
        epsilon: fuzz factor, float >= 0; None means ``backend.epsilon()`` (1e-7).
        decay: time-based learning-rate decay, float >= 0. Default 0.
        clipnorm, clipvalue: see ``Optimizer``.

    Differs from: torch.optim.RMSprop (same form, but alpha=0.99, eps=1e-8, lr=1e-2);
    Keras 3 and optax put epsilon inside the square root. Keras 2.2.4 leaves
    ``iterations`` out of the weights, so decay restarts after a reload; gradstep saves it.

    References:
        Tieleman and Hinton, "Lecture 6.5 - RMSProp", COURSERA: Neural Networks for Machine
        Learning, 2012.

    Example:
        >>> import numpy as np
        >>> from gradstep.optimizers import RMSprop
        >>> p = np.array([1.0])
        >>> RMSprop(lr=0.01).apply_gradients([(np.array([0.5]), p)])
        >>> p.round(6)
        array([0.968377])
    """

    config_keys = ("lr", "rho", "decay", "epsilon")
    keras224_omits = ("iterations",)
    rho = Hyperparameter(high=1.0)
    epsilon = Hyperparameter()

    def __init__(
        self,
        lr: float = default(0.001),
        rho: float = 0.9,
        epsilon: float | None = None,
        decay: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(lr=lr, decay=decay, **kwargs)
        self.rho = rho
        self.epsilon = self.resolve_epsilon(epsilon)

    rule = staticmethod(rmsprop_rule)

    def slot_names(self) -> tuple[str, ...]:
        return ("accumulator",)

    def coefficients(
        self, t: int, lr: float, scalars: Mapping[str, float]
    ) -> RMSpropCoefficients:
        return RMSpropCoefficients(lr, self.rho, 1.0 - self.rho, self.epsilon)
