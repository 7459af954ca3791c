"""The test cases of every registered optimizer: ONE table, keyed by registered name.

Every parametrized test that runs "each optimizer" (engines, front ends, properties,
first steps, defaults) reads this table, and ``test_registry.py`` fails, naming the
optimizer, when a registered optimizer has no entry here (or no golden file, docstring
or front-end class). Adding an optimizer means adding its entry here.

- ``defaults``: ``get_config()`` of an optimizer built with no arguments, in order.
- ``configs``: configurations that together exercise every rule the optimizer has, its
  decay and both kinds of clipping; the engine- and front-end-parity tests run each one.
- ``first_steps``: the first step from zero state for one element worked out by hand
  (g = G, p = P, epsilon = EPS unless the config says otherwise), so a failure points at
  one formula.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

G, P, EPS = 0.5, 1.0, 1e-7


@dataclass(frozen=True)
class FirstStep:
    label: str
    config: dict[str, Any]
    expected: float


@dataclass(frozen=True)
class OptimizerCases:
    defaults: dict[str, Any]
    configs: list[dict[str, Any]]
    first_steps: list[FirstStep] = field(default_factory=list)


def _nadam_first_step() -> float:
    mu1 = 0.9 * (1 - 0.5 * 0.96 ** (1 * 0.004))
    mu2 = 0.9 * (1 - 0.5 * 0.96 ** (2 * 0.004))
    g_prime = G / (1 - mu1)
    m_prime = 0.1 * G / (1 - mu1 * mu2)
    v_prime = 0.001 * G * G / (1 - 0.999)
    m_bar = (1 - mu1) * g_prime + mu2 * m_prime
    return P - 0.1 * m_bar / (math.sqrt(v_prime) + EPS)


# lr_t = lr sqrt(1 - b2) / (1 - b1); m = 0.1 g; v = 0.001 g^2
_ADAM_FIRST = P - 0.1 * math.sqrt(0.001) / 0.1 * (0.1 * G) / (
    math.sqrt(0.001 * G * G) + EPS
)

CASES: dict[str, OptimizerCases] = {
    "sgd": OptimizerCases(
        defaults={"lr": 0.01, "momentum": 0.0, "decay": 0.0, "nesterov": False},
        configs=[
            {"lr": 0.1},
            {"lr": 0.05, "momentum": 0.9, "decay": 0.01, "clipvalue": 0.5},
            {"lr": 0.05, "momentum": 0.8, "nesterov": True, "clipnorm": 3.0},
        ],
        first_steps=[
            # v = -lr g; p + v
            FirstStep("momentum", {"lr": 0.1, "momentum": 0.9}, P - 0.1 * G),
            # nesterov: p + mu v - lr g with v = -lr g
            FirstStep(
                "nesterov",
                {"lr": 0.1, "momentum": 0.9, "nesterov": True},
                P + 0.9 * (-0.1 * G) - 0.1 * G,
            ),
        ],
    ),
    "rmsprop": OptimizerCases(
        defaults={"lr": 0.001, "rho": 0.9, "decay": 0.0, "epsilon": 1e-07},
        configs=[{"lr": 0.01, "decay": 0.001}, {"clipnorm": 1.5}],
        # a = (1 - rho) g^2
        first_steps=[
            FirstStep(
                "default_rho",
                {"lr": 0.01},
                P - 0.01 * G / (math.sqrt(0.1 * G * G) + EPS),
            )
        ],
    ),
    "adagrad": OptimizerCases(
        defaults={"lr": 0.01, "decay": 0.0, "epsilon": 1e-07},
        configs=[{"lr": 0.05, "clipvalue": 0.3}, {"decay": 0.01, "clipnorm": 1.0}],
        # a = g^2: a step of about lr
        first_steps=[FirstStep("lr", {"lr": 0.1}, P - 0.1 * G / (G + EPS))],
    ),
    "adadelta": OptimizerCases(
        defaults={"lr": 1.0, "rho": 0.95, "decay": 0.0, "epsilon": 1e-07},
        configs=[{"rho": 0.9}, {"clipnorm": 2.0, "clipvalue": 0.5}],
        # a = 0.05 g^2, delta = g sqrt(eps) / sqrt(a + eps)
        first_steps=[
            FirstStep(
                "defaults",
                {},
                P - 1.0 * G * math.sqrt(EPS) / math.sqrt(0.05 * G * G + EPS),
            )
        ],
    ),
    "adam": OptimizerCases(
        defaults={
            "lr": 0.001,
            "beta_1": 0.9,
            "beta_2": 0.999,
            "decay": 0.0,
            "epsilon": 1e-07,
            "amsgrad": False,
        },
        configs=[
            {"lr": 0.01, "decay": 0.01},
            {"lr": 0.01, "amsgrad": True, "clipvalue": 0.5},
            {"amsgrad": True, "decay": 0.001, "clipnorm": 1.0},
        ],
        first_steps=[
            FirstStep("adam", {"lr": 0.1}, _ADAM_FIRST),
            # vhat = max(0, v) = v on the first step
            FirstStep("amsgrad", {"lr": 0.1, "amsgrad": True}, _ADAM_FIRST),
        ],
    ),
    "adamax": OptimizerCases(
        defaults={
            "lr": 0.002,
            "beta_1": 0.9,
            "beta_2": 0.999,
            "decay": 0.0,
            "epsilon": 1e-07,
        },
        configs=[{"lr": 0.02, "clipnorm": 2.0}, {"decay": 0.01, "clipvalue": 0.3}],
        # lr_t = lr / (1 - b1); m = 0.1 g; u = |g|
        first_steps=[
            FirstStep("lr", {"lr": 0.1}, P - 0.1 / 0.1 * (0.1 * G) / (G + EPS))
        ],
    ),
    "nadam": OptimizerCases(
        defaults={
            "lr": 0.002,
            "beta_1": 0.9,
            "beta_2": 0.999,
            "epsilon": 1e-07,
            "schedule_decay": 0.004,
        },
        configs=[
            {"lr": 0.01},
            {"clipnorm": 1.0},
            {"clipnorm": 30.0, "clipvalue": 0.02},
        ],
        first_steps=[FirstStep("lr", {"lr": 0.1}, _nadam_first_step())],
    ),
}


def optimizer_class(name: str) -> type:
    """The NumPy class registered as ``name``."""
    from gradstep import optimizers

    cls = optimizers.lookup(name)
    assert cls is not None, f"no optimizer is registered as {name!r}"
    return cls


def torch_class(name: str) -> type:
    """The gradstep.torch class of the optimizer registered as ``name``."""
    import gradstep.torch

    return getattr(gradstep.torch, optimizer_class(name).__name__)


def all_configs() -> list[tuple[str, dict[str, Any]]]:
    """``(registered name, config)`` for every config of every optimizer."""
    return [(name, config) for name, cases in CASES.items() for config in cases.configs]


def config_ids(pairs: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Readable test ids: ``adam-0``, ``adam-1``..."""
    seen: dict[str, int] = {}
    ids = []
    for name, _ in pairs:
        ids.append(f"{name}-{seen.get(name, 0)}")
        seen[name] = seen.get(name, 0) + 1
    return ids


def first_steps() -> list[tuple[str, FirstStep]]:
    """``(registered name, case)`` for every hand-computed first step."""
    return [(name, case) for name, cases in CASES.items() for case in cases.first_steps]
