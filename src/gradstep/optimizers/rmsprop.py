"""RMSprop as in Keras 2.2 (epsilon outside the square root, no momentum), and as the
other flavours compute it (epsilon inside in Keras 3 and optax, momentum, centered)."""

from __future__ import annotations

from typing import Any, NamedTuple

from ..kernels.elementwise import sqrt
from ._base import Optimizer, default
from ._flavours import REQUIRED, Variant
from ._hyper import BUILT, CONSTRUCTED, Flag, Hyperparameter
from ._registry import register

__all__ = ["RMSprop"]


class RMSpropCoefficients(NamedTuple):
    lr: float
    rho: float
    one_minus_rho: float
    epsilon: float
    momentum: float


def rmsprop_rule(p, g, a, c):
    a = c.rho * a + c.one_minus_rho * (g * g)
    return p - c.lr * g / (sqrt(a) + c.epsilon), a


def centered_rule(p, g, a, mg, c):
    a = c.rho * a + c.one_minus_rho * (g * g)
    mg = c.rho * mg + c.one_minus_rho * g
    return p - c.lr * g / (sqrt(a - mg * mg) + c.epsilon), a, mg


def inside_rule(p, g, a, c):
    a = c.rho * a + c.one_minus_rho * (g * g)
    return p - c.lr * g / sqrt(a + c.epsilon), a


def inside_centered_rule(p, g, a, mg, c):
    a = c.rho * a + c.one_minus_rho * (g * g)
    mg = c.rho * mg + c.one_minus_rho * g
    return p - c.lr * g / sqrt(a - mg * mg + c.epsilon), a, mg


def inside_momentum_rule(p, g, a, b, c):
    a = c.rho * a + c.one_minus_rho * (g * g)
    b = c.momentum * b + c.lr * g / sqrt(a + c.epsilon)
    return p - b, a, b


def inside_centered_momentum_rule(p, g, a, mg, b, c):
    a = c.rho * a + c.one_minus_rho * (g * g)
    mg = c.rho * mg + c.one_minus_rho * g
    b = c.momentum * b + c.lr * g / sqrt(a - mg * mg + c.epsilon)
    return p - b, a, mg, b


def torch_momentum_rule(p, g, a, b, c):
    a = c.rho * a + c.one_minus_rho * (g * g)
    b = c.momentum * b + g / (sqrt(a) + c.epsilon)
    return p - c.lr * b, a, b


def torch_centered_momentum_rule(p, g, a, mg, b, c):
    a = c.rho * a + c.one_minus_rho * (g * g)
    mg = c.rho * mg + c.one_minus_rho * g
    b = c.momentum * b + g / (sqrt(a - mg * mg) + c.epsilon)
    return p - c.lr * b, a, mg, b


def rmsprop_coefficients(opt, t, lr, scalars):
    return RMSpropCoefficients(lr, opt.rho, 1.0 - opt.rho, opt.epsilon, opt.momentum)


# (epsilon inside the root, centered, momentum > 0) -> rule; momentum rules of the
# "outside" kind keep lr out of the buffer (torch), the others keep it in (TF, Keras 3).
_OUTSIDE = {
    (False, False): rmsprop_rule,
    (True, False): centered_rule,
    (False, True): torch_momentum_rule,
    (True, True): torch_centered_momentum_rule,
}
_INSIDE = {
    (False, False): inside_rule,
    (True, False): inside_centered_rule,
    (False, True): inside_momentum_rule,
    (True, True): inside_centered_momentum_rule,
}


def _uses_momentum(opt) -> bool:
    return opt.momentum > 0


def _outside(opt):
    return _OUTSIDE[opt.centered, _uses_momentum(opt)]


def _inside(opt):
    return _INSIDE[opt.centered, _uses_momentum(opt)]


def _tf_keras(opt):
    """TF's kernels: the Python path (epsilon outside) without momentum, the
    ResourceApply(Centered)RMSProp ops (epsilon inside) with it."""
    return _inside(opt) if _uses_momentum(opt) else _outside(opt)


def _slots(opt):
    return (
        ("accumulator",)
        + (("mg",) if opt.centered else ())
        + (("momentum",) if _uses_momentum(opt) else ())
    )


_KNOBS = {"momentum": 0.0, "centered": False}


def _momentum_at_most_one(opt) -> None:
    if opt.momentum > 1.0:
        raise ValueError(
            f"flavour={opt.flavour!r}: momentum must be in [0, 1], got {opt.momentum!r}"
        )


FLAVOURS = {
    "keras22": Variant(rmsprop_rule, rmsprop_coefficients, ("accumulator",)),
    "tf_keras": Variant(
        None,
        rmsprop_coefficients,
        _slots,
        select=_tf_keras,
        defaults={"lr": 0.001, "rho": 0.9, "epsilon": 1e-7},
        knobs=_KNOBS,
        check=_momentum_at_most_one,
        zero_fixed={"momentum": CONSTRUCTED},
    ),
    "keras3": Variant(
        None,
        rmsprop_coefficients,
        _slots,
        select=_inside,
        defaults={"lr": 0.001, "rho": 0.9, "epsilon": 1e-7},
        knobs=_KNOBS,
        zero_fixed={"momentum": BUILT},
    ),
    "torch": Variant(
        None,
        rmsprop_coefficients,
        _slots,
        select=_outside,
        defaults={"lr": 0.01, "rho": 0.99, "epsilon": 1e-8},
        group_names={"epsilon": "eps", "rho": "alpha"},
        state_names={
            "accumulator": "square_avg",
            "mg": "grad_avg",
            "momentum": "momentum_buffer",
        },
        knobs=_KNOBS,
        zero_fixed={"momentum": BUILT},
    ),
    "optax": Variant(
        None,
        rmsprop_coefficients,
        _slots,
        select=_inside,
        defaults={"lr": REQUIRED, "rho": 0.9, "epsilon": 1e-8},
        knobs=_KNOBS,
        zero_fixed={"momentum": BUILT},
        # optax traces the update (already times -lr): the buffer's sign is flipped
        state_names={"accumulator": "nu", "mg": "mu", "momentum": "trace"},
        negated_state=("momentum",),
    ),
}


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
        flavour: whose numerics: "keras22" (default: the equations above), "tf_keras",
            "keras3", "torch" or "optax" (their equations and defaults: the
            ``FLAVOURS`` table above, docs/flavours.md).
        momentum, centered: RMSprop with momentum, and centered (divided by the
            estimated variance), in the flavours other than keras22. Defaults 0, False.

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
    flavours = FLAVOURS
    knobs_off = _KNOBS
    rho = Hyperparameter(high=1.0)
    epsilon = Hyperparameter()
    momentum = Hyperparameter()
    centered = Flag(fixed_when_built=True)

    def __init__(
        self,
        lr: float = default(0.001),
        rho: float = default(0.9),
        epsilon: float | None = None,
        decay: float = 0.0,
        momentum: float | None = None,
        centered: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(lr=lr, decay=decay, **kwargs)
        self.rho = self.flavour_default("rho", rho)
        self.epsilon = self.resolve_epsilon(epsilon)
        self.momentum = self.knob("momentum", momentum)
        self.centered = self.knob("centered", centered)
        self.finish_flavour()
