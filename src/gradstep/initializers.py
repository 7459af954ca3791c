"""Keras 2.2 initializers: same names, same distributions, seeded NumPy generators.

An initializer is called as ``init(shape, dtype=None, rng=None)``. With its own ``seed``
it draws from ``numpy.random.default_rng(seed)`` (the same values on every call, as a
seeded Keras initializer); otherwise from ``rng``, the generator of the model being built
(see ``gradstep.models.set_random_seed``). The values are not TensorFlow's: the
distributions are.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import backend
from ._registry import Registry
from ._seeding import check_seed, new_seed_sequence

__all__ = [
    "Initializer",
    "Zeros",
    "Ones",
    "Constant",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Orthogonal",
    "Identity",
    "glorot_uniform",
    "glorot_normal",
    "he_normal",
    "he_uniform",
    "lecun_uniform",
    "lecun_normal",
    "get",
    "serialize",
    "deserialize",
    "names",
]

_CLASSES = Registry("initializer")  # class names used in configs
_NAMES = Registry("initializer")  # Keras's string names -> factories


class Initializer:
    """Base class: subclasses define ``sample(shape, rng)`` and their config."""

    seed: int | None = None

    def __call__(
        self,
        shape: tuple[int, ...],
        dtype: Any = None,
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        shape = tuple(int(s) for s in shape)
        if self.seed is not None:
            rng = np.random.default_rng(self.seed)
        elif rng is None:
            rng = np.random.default_rng(new_seed_sequence())
        values = self.sample(shape, rng)
        return np.asarray(values, dtype=dtype or backend.floatx())

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Initializer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _fans(shape: tuple[int, ...]) -> tuple[float, float]:
    # Keras 2.2's _compute_fans: Dense kernels are (fan_in, fan_out).
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    if len(shape) in (3, 4, 5):
        receptive = float(np.prod(shape[:-2]))
        return shape[-2] * receptive, shape[-1] * receptive
    root = math.sqrt(float(np.prod(shape)))
    return root, root


@_CLASSES.register("Zeros")
class Zeros(Initializer):
    """All zeros."""

    def sample(self, shape, rng):
        return np.zeros(shape)


@_CLASSES.register("Ones")
class Ones(Initializer):
    """All ones."""

    def sample(self, shape, rng):
        return np.ones(shape)


@_CLASSES.register("Constant")
class Constant(Initializer):
    """All ``value``."""

    def __init__(self, value: float = 0) -> None:
        self.value = float(value)

    def sample(self, shape, rng):
        return np.full(shape, self.value)

    def get_config(self):
        return {"value": self.value}


@_CLASSES.register("RandomNormal")
class RandomNormal(Initializer):
    """Normal with ``mean`` and ``stddev`` (Keras's 'normal': stddev 0.05)."""

    def __init__(
        self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None
    ):
        self.mean, self.stddev, self.seed = float(mean), float(stddev), check_seed(seed)

    def sample(self, shape, rng):
        return rng.normal(self.mean, self.stddev, shape)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


@_CLASSES.register("RandomUniform")
class RandomUniform(Initializer):
    """Uniform in [minval, maxval) (Keras's 'uniform': [-0.05, 0.05])."""

    def __init__(
        self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None
    ):
        self.minval, self.maxval, self.seed = (
            float(minval),
            float(maxval),
            check_seed(seed),
        )

    def sample(self, shape, rng):
        return rng.uniform(self.minval, self.maxval, shape)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _truncated_normal(rng, shape, mean, stddev):
    # Values more than two standard deviations from the mean are drawn again.
    values = rng.standard_normal(shape)
    bad = np.abs(values) > 2
    while bad.any():
        values[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(values) > 2
    return mean + stddev * values


@_CLASSES.register("TruncatedNormal")
class TruncatedNormal(RandomNormal):
    """Normal with ``mean``, ``stddev``, redrawn beyond two standard deviations."""

    def sample(self, shape, rng):
        return _truncated_normal(rng, shape, self.mean, self.stddev)


@_CLASSES.register("VarianceScaling")
class VarianceScaling(Initializer):
    """Scale ``scale / n`` with n the fan_in, fan_out or their mean; 'normal' is a
    truncated normal with stddev sqrt(scale / n) / .8796..., 'uniform' is uniform in
    [-sqrt(3 scale / n), sqrt(3 scale / n)] (Keras 2.2)."""

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "normal",
        seed: int | None = None,
    ) -> None:
        if not (isinstance(scale, (int, float)) and scale > 0):
            raise ValueError(f"`scale` must be a positive float. Got: {scale!r}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(
                "Invalid `mode` argument: expected one of fan_in, fan_out, fan_avg; "
                f"got {mode!r}"
            )
        if distribution not in ("normal", "uniform"):
            raise ValueError(
                "Invalid `distribution` argument: expected one of normal, uniform; got "
                f"{distribution!r}"
            )
        self.scale, self.mode, self.distribution = float(scale), mode, distribution
        self.seed = check_seed(seed)

    def sample(self, shape, rng):
        fan_in, fan_out = _fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}
        scale = self.scale / max(1.0, n[self.mode])
        if self.distribution == "normal":
            return _truncated_normal(
                rng, shape, 0.0, math.sqrt(scale) / 0.87962566103423978
            )
        limit = math.sqrt(3.0 * scale)
        return rng.uniform(-limit, limit, shape)

    def get_config(self):
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
        }


@_CLASSES.register("Orthogonal")
class Orthogonal(Initializer):
    """A random orthogonal matrix times ``gain`` (Saxe et al., 2014)."""

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        self.gain, self.seed = float(gain), check_seed(seed)

    def sample(self, shape, rng):
        rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
        cols = shape[-1] if shape else 1
        a = rng.normal(0.0, 1.0, (rows, cols))
        u, _, v = np.linalg.svd(a, full_matrices=False)
        q = u if u.shape == (rows, cols) else v
        return self.gain * q.reshape(shape)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


@_CLASSES.register("Identity")
class Identity(Initializer):
    """``gain`` times the identity matrix (2-D square shapes only)."""

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = float(gain)

    def sample(self, shape, rng):
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError(
                f"Identity matrix initializer can only be used for 2D square matrices, "
                f"got shape {shape}"
            )
        return self.gain * np.identity(shape[0])

    def get_config(self):
        return {"gain": self.gain}


def glorot_uniform(seed: int | None = None) -> VarianceScaling:
    return VarianceScaling(1.0, "fan_avg", "uniform", seed)


def glorot_normal(seed: int | None = None) -> VarianceScaling:
    return VarianceScaling(1.0, "fan_avg", "normal", seed)


def he_normal(seed: int | None = None) -> VarianceScaling:
    return VarianceScaling(2.0, "fan_in", "normal", seed)


def he_uniform(seed: int | None = None) -> VarianceScaling:
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def lecun_uniform(seed: int | None = None) -> VarianceScaling:
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


def lecun_normal(seed: int | None = None) -> VarianceScaling:
    return VarianceScaling(1.0, "fan_in", "normal", seed)


for _name, _factory in {
    "zeros": Zeros,
    "zero": Zeros,
    "ones": Ones,
    "one": Ones,
    "constant": Constant,
    "normal": RandomNormal,
    "random_normal": RandomNormal,
    "uniform": RandomUniform,
    "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal,
    "orthogonal": Orthogonal,
    "identity": Identity,
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "lecun_uniform": lecun_uniform,
    "lecun_normal": lecun_normal,
}.items():
    _NAMES.add(_name, _factory)


def names() -> list[str]:
    """The string names ``get`` accepts."""
    return _NAMES.names()


def serialize(initializer: Initializer) -> dict[str, Any]:
    """``{'class_name': ..., 'config': ...}`` as Keras writes it."""
    return {
        "class_name": type(initializer).__name__,
        "config": initializer.get_config(),
    }


def deserialize(
    config: Any, custom_objects: Mapping[str, Any] | None = None
) -> Initializer:
    """An initializer from ``serialize``'s output (registered classes only)."""
    if not isinstance(config, Mapping) or "class_name" not in config:
        raise ValueError(f"Could not interpret initializer config: {config!r}")
    cls = _CLASSES.lookup(config["class_name"], custom_objects)
    settings = config.get("config", {})
    if not isinstance(settings, Mapping):
        raise ValueError(f"initializer 'config' must be a dict, got {settings!r}")
    try:
        return cls.from_config(dict(settings))
    except TypeError as exc:
        raise ValueError(f"Bad initializer config {dict(config)!r}: {exc}") from None


def get(identifier: Any) -> Initializer:
    """An initializer from a name ('glorot_uniform', 'uniform', ...), a config dict or an
    ``Initializer`` instance."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, Mapping):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return _NAMES.lookup(identifier)()
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")
