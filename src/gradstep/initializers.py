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
    "zero",
    "zeros",
    "one",
    "ones",
    "constant",
    "uniform",
    "random_uniform",
    "normal",
    "random_normal",
    "truncated_normal",
    "identity",
    "orthogonal",
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
    """All ``value``: a number, or an array broadcast to the shape (Keras's
    ``K.constant(value, shape=shape)``); its config holds the array as nested lists."""

    def __init__(self, value: Any = 0) -> None:
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
            value, (bool, np.bool_)
        ):
            self.value: float | np.ndarray = float(value)
            return
        try:
            array = np.array(value, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(
                f"Constant: value must be a number or an array of numbers, got {value!r}"
            ) from None
        self.value = float(array) if array.ndim == 0 else array

    def sample(self, shape, rng):
        if isinstance(self.value, float):
            return np.full(shape, self.value)
        try:
            return np.array(np.broadcast_to(self.value, shape))
        except ValueError:
            raise ValueError(
                f"Constant: a value of shape {self.value.shape} cannot fill a weight of "
                f"shape {shape}"
            ) from None

    def get_config(self):
        value = self.value
        return {"value": value if isinstance(value, float) else value.tolist()}


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
    """A random orthogonal matrix times ``gain`` (Saxe et al., 2014). With a ``seed`` the
    normal draws come from ``numpy.random.RandomState(seed)``, as in Keras 2.2.4, so the
    values are Keras's own."""

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        self.gain, self.seed = float(gain), check_seed(seed)

    def __call__(self, shape, dtype=None, rng=None):
        if self.seed is None:
            return super().__call__(shape, dtype, rng)
        shape = tuple(int(s) for s in shape)
        values = self.sample(shape, np.random.RandomState(self.seed))
        return np.asarray(values, dtype=dtype or backend.floatx())

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
    """``gain`` times the identity matrix; for a non-square 2-D shape whose long side is
    a multiple of the short one, identities stacked along the long side (Keras 2.2.4)."""

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = float(gain)

    def sample(self, shape, rng):
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices, got "
                f"shape {shape}"
            )
        rows, cols = shape
        if min(shape) == 0 or max(shape) % min(shape) != 0:
            raise ValueError(
                f"Identity initializer: the long side of shape {shape} must be a "
                "multiple of the short side"
            )
        if rows == cols:
            return self.gain * np.identity(rows)
        if rows > cols:
            return self.gain * np.concatenate([np.identity(cols)] * (rows // cols), 0)
        return self.gain * np.concatenate([np.identity(rows)] * (cols // rows), 1)

    def get_config(self):
        return {"gain": self.gain}


def glorot_uniform(seed: int | None = None) -> VarianceScaling:
    """Glorot uniform: uniform in [-limit, limit], limit = sqrt(6 / (fan_in + fan_out))."""
    return VarianceScaling(1.0, "fan_avg", "uniform", seed)


def glorot_normal(seed: int | None = None) -> VarianceScaling:
    """Glorot normal: truncated normal, stddev sqrt(2 / (fan_in + fan_out))."""
    return VarianceScaling(1.0, "fan_avg", "normal", seed)


def he_normal(seed: int | None = None) -> VarianceScaling:
    """He normal: truncated normal, stddev sqrt(2 / fan_in)."""
    return VarianceScaling(2.0, "fan_in", "normal", seed)


def he_uniform(seed: int | None = None) -> VarianceScaling:
    """He uniform: limit sqrt(6 / fan_in)."""
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def lecun_uniform(seed: int | None = None) -> VarianceScaling:
    """LeCun uniform: limit sqrt(3 / fan_in)."""
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


def lecun_normal(seed: int | None = None) -> VarianceScaling:
    """LeCun normal: truncated normal, stddev sqrt(1 / fan_in)."""
    return VarianceScaling(1.0, "fan_in", "normal", seed)


# Keras's lower-case aliases of the classes.
zero = zeros = Zeros
one = ones = Ones
constant = Constant
uniform = random_uniform = RandomUniform
normal = random_normal = RandomNormal
truncated_normal = TruncatedNormal
identity = Identity
orthogonal = Orthogonal

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


def _instance(found: Any, identifier: Any) -> Initializer:
    if isinstance(found, Initializer):
        return found
    if isinstance(found, type) and issubclass(found, Initializer):
        return found()
    if getattr(found, "__module__", None) == __name__ and callable(found):
        return found()  # glorot_uniform and the like, given uncalled
    if callable(found):
        return _Function(found)
    raise ValueError(
        f"Could not interpret initializer identifier: {identifier!r}; expected a name "
        f"({', '.join(names())}), a config dict, an Initializer or a callable "
        "f(shape, dtype=None)"
    )


class _Function(Initializer):
    """A plain callable ``f(shape, dtype=None) -> array`` used as an initializer."""

    def __init__(self, function: Any) -> None:
        self.function = function

    def sample(self, shape, rng):
        values = np.asarray(self.function(shape, dtype=None))
        if values.shape != tuple(shape):
            raise ValueError(
                f"initializer {getattr(self.function, '__name__', self.function)!r} "
                f"returned shape {values.shape} for shape {tuple(shape)}"
            )
        return values

    def get_config(self):
        raise ValueError(
            f"cannot serialize the initializer function {self.function!r}: give the "
            "model custom_objects to load it"
        )


def deserialize(
    config: Any, custom_objects: Mapping[str, Any] | None = None
) -> Initializer:
    """An initializer from ``serialize``'s output: ``{'class_name', 'config'}`` where the
    class name is a class ('VarianceScaling') or a Keras name ('glorot_uniform');
    ``custom_objects`` and the global custom objects first."""
    if isinstance(config, str):
        return get(config, custom_objects)
    if not isinstance(config, Mapping) or "class_name" not in config:
        raise ValueError(f"Could not interpret initializer config: {config!r}")
    name = config["class_name"]
    if not isinstance(name, str):
        raise ValueError(f"initializer 'class_name' must be a string, got {name!r}")
    cls = _CLASSES.find(name, custom_objects) or _NAMES.find(name)
    if cls is None:
        _CLASSES.lookup(name, custom_objects)  # raises, naming the known ones
    settings = config.get("config", {}) or {}
    if not isinstance(settings, Mapping):
        raise ValueError(f"initializer 'config' must be a dict, got {settings!r}")
    if isinstance(cls, Initializer):
        return cls
    try:
        if isinstance(cls, type) and issubclass(cls, Initializer):
            return cls.from_config(dict(settings))
        return _instance(cls(**settings), config)
    except TypeError as exc:
        raise ValueError(f"Bad initializer config {dict(config)!r}: {exc}") from None


def get(
    identifier: Any, custom_objects: Mapping[str, Any] | None = None
) -> Initializer:
    """An initializer from a name ('glorot_uniform', 'uniform', ...), a config dict, an
    ``Initializer`` instance or class, one of this module's functions (called with its
    defaults) or a callable ``f(shape, dtype=None)``."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, Mapping):
        return deserialize(identifier, custom_objects)
    if isinstance(identifier, str):
        found = _NAMES.find(identifier, custom_objects) or _CLASSES.find(identifier)
        if found is None:
            _NAMES.lookup(identifier, custom_objects)  # raises, naming the known ones
        return _instance(found, identifier)
    return _instance(identifier, identifier)
