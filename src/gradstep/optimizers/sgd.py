"""Stochastic gradient descent with momentum and Nesterov momentum, as in Keras 2.2."""

from __future__ import annotations

from typing import Any, NamedTuple

from ..kernels.elementwise import minimum
from ._base import Optimizer, default
from ._flavours import REQUIRED, Variant
from ._hyper import BUILT, CONSTRUCTED, Flag, Hyperparameter
from ._registry import register

__all__ = ["SGD"]


class SGDCoefficients(NamedTuple):
    lr: float
    momentum: float


class TorchSGDCoefficients(NamedTuple):
    lr: float
    momentum: float
    one_minus_dampening: float


def momentum_rule(p, g, m, c):
    v = c.momentum * m - c.lr * g
    return p + v, v


def nesterov_rule(p, g, m, c):
    v = c.momentum * m - c.lr * g
    return p + c.momentum * v - c.lr * g, v


def buffer_rule(p, g, b, c):
    b = c.momentum * b + c.one_minus_dampening * g
    return p - c.lr * b, b


def buffer_nesterov_rule(p, g, b, c):
    b = c.momentum * b + c.one_minus_dampening * g
    return p - c.lr * (g + c.momentum * b), b


def sgd_coefficients(opt, t, lr, scalars):
    return SGDCoefficients(lr=lr, momentum=opt.momentum)


def buffer_coefficients(opt, t, lr, scalars):
    """torch's buffer starts as the first gradient itself (no dampening at step 1), and
    without momentum there is no buffer (no dampening at all)."""
    after_first_step = minimum(t - 1.0, 1.0)
    with_momentum = minimum(opt.momentum * 1e30, 1.0)  # 1 for any momentum >= 1e-30
    damping = opt.dampening * after_first_step * with_momentum
    return TorchSGDCoefficients(lr, opt.momentum, 1.0 - damping)


def trace_coefficients(opt, t, lr, scalars):
    """optax's trace: torch's buffer without dampening (optax has none), whose factor
    1 is then a constant, not something computed from the step."""
    return TorchSGDCoefficients(lr, opt.momentum, 1.0)


def _keras_rule(opt):
    return nesterov_rule if opt.nesterov else momentum_rule


def _buffer_rule(opt):
    return buffer_nesterov_rule if opt.nesterov else buffer_rule


def _momentum_at_most_one(opt) -> None:
    if opt.momentum > 1.0:
        raise ValueError(
            f"flavour={opt.flavour!r}: momentum must be in [0, 1], got {opt.momentum!r}"
        )


def _torch_checks(opt) -> None:
    if opt.nesterov and (opt.momentum <= 0 or opt.dampening != 0):
        raise ValueError(
            "flavour='torch': Nesterov momentum requires a momentum and zero dampening"
        )


_KERAS = {"rule": None, "coefficients": sgd_coefficients, "slots": ("moment",)}
FLAVOURS = {
    "keras22": Variant(**_KERAS, select=_keras_rule),
    # tf_keras runs ResourceApplyKerasMomentum or plain gradient descent as its
    # constructor found momentum; Keras 3 makes the momentum slots at build
    "tf_keras": Variant(
        **_KERAS,
        select=_keras_rule,
        check=_momentum_at_most_one,
        zero_fixed={"momentum": CONSTRUCTED},
    ),
    "keras3": Variant(
        **_KERAS,
        select=_keras_rule,
        check=_momentum_at_most_one,
        zero_fixed={"momentum": BUILT},
    ),
    "torch": Variant(
        None,
        buffer_coefficients,
        ("moment",),
        select=_buffer_rule,
        defaults={"lr": 0.001},
        state_names={"moment": "momentum_buffer"},
        knobs={"dampening": 0.0},
        check=_torch_checks,
        zero_fixed={"momentum": BUILT},
    ),
    # torch starts a fresh buffer when momentum leaves 0 mid-run (the slot holds the
    # last gradient then) and optax has no trace without momentum: both refuse it
    "optax": Variant(
        None,
        trace_coefficients,
        ("moment",),
        select=_buffer_rule,
        defaults={"lr": REQUIRED},
        state_names={"moment": "trace"},
        zero_fixed={"momentum": BUILT},
    ),
}


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
        flavour: whose numerics: "keras22" (default: the equations above), "tf_keras",
            "keras3", "torch" or "optax" (their equations and defaults: the
            ``FLAVOURS`` table above, docs/flavours.md).
        dampening: torch's dampening of the momentum buffer (flavour "torch" only).
            Default 0.

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
    flavours = FLAVOURS
    knobs_off = {"dampening": 0.0}
    momentum = Hyperparameter()
    nesterov = Flag()
    dampening = Hyperparameter()

    def __init__(
        self,
        lr: float = default(0.01),
        momentum: float = 0.0,
        decay: float = 0.0,
        nesterov: bool = False,
        dampening: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(lr=lr, decay=decay, **kwargs)
        self.momentum = momentum
        self.nesterov = nesterov
        self.dampening = self.knob("dampening", dampening)
        self.finish_flavour()
