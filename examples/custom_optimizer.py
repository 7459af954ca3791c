"""A new optimizer in gradstep: PyTorch-style heavy-ball momentum, registered by name."""

from typing import NamedTuple

import numpy as np

from gradstep import optimizers
from gradstep.optimizers import Hyperparameter, Optimizer, register


class HeavyBallCoefficients(NamedTuple):
    lr: float
    momentum: float


def heavy_ball_rule(p, g, b, c):
    b = c.momentum * b + g
    return p - c.lr * b, b


@register("heavy_ball")
class HeavyBall(Optimizer):
    """Momentum as torch.optim.SGD computes it: b = momentum * b + g; p = p - lr * b."""

    config_keys = ("lr", "momentum", "decay")
    momentum = Hyperparameter(low=0.0)  # validated whenever it is set
    rule = staticmethod(heavy_ball_rule)

    def __init__(self, lr=0.01, momentum=0.9, decay=0.0, **kwargs):
        super().__init__(lr=lr, decay=decay, **kwargs)
        self.momentum = momentum

    def slot_names(self):
        return ("b",)

    def coefficients(self, t, lr, scalars):
        return HeavyBallCoefficients(lr=lr, momentum=self.momentum)


opt = optimizers.get({"class_name": "heavy_ball", "config": {"lr": 0.1}})
w = np.array([1.0, -2.0])
for _ in range(3):
    opt.apply_gradients([(2 * w, w)])  # gradient of sum(w ** 2)
print(opt, w)
