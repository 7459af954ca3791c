"""Where random numbers come from: one documented seed source.

``set_random_seed(seed)`` (as ``keras.utils.set_random_seed`` in Keras 3) seeds the global
source; every model created afterwards, and every layer built outside a model, draws its
own independent ``numpy.random.Generator`` from it, in creation order. Without a global
seed the generators are seeded from the operating system (different on every run), as in
Keras. ``Sequential(seed=...)`` gives one model its own seed regardless of the global one.

NumPy's legacy global state (``np.random.seed``) is neither used nor changed.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "set_random_seed",
    "new_seed_sequence",
    "check_seed",
    "generator_state",
    "restore_generator",
]

_root: np.random.SeedSequence | None = None


def check_seed(seed: object, what: str = "seed") -> int | None:
    """``None`` or an integer >= 0; anything else raises ``ValueError``."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"{what} must be None or an integer >= 0, got {seed!r}")
    return int(seed)


def set_random_seed(seed: int) -> None:
    """Seed the global source from which new models and layers draw their generators.

    Call it once at the start of a script, before building models, to make weight
    initialization, dropout and ``fit``'s shuffling reproducible.
    """
    global _root
    value = check_seed(seed)
    if value is None:
        raise ValueError("set_random_seed needs an integer >= 0, got None")
    _root = np.random.SeedSequence(value)


def new_seed_sequence(seed: int | None = None) -> np.random.SeedSequence:
    """A seed sequence from ``seed``, else the next child of the global source, else
    fresh operating-system entropy."""
    if seed is not None:
        return np.random.SeedSequence(check_seed(seed))
    if _root is not None:
        return _root.spawn(1)[0]
    return np.random.SeedSequence()


def generator_state(rng: np.random.Generator) -> dict:
    """The generator's complete state as a JSON-compatible dict."""
    return rng.bit_generator.state


def restore_generator(rng: np.random.Generator, state: object) -> None:
    """Set ``rng`` to ``state`` (from ``generator_state``); ``ValueError`` if malformed."""
    if (
        not isinstance(state, dict)
        or state.get("bit_generator") != type(rng.bit_generator).__name__
    ):
        raise ValueError(f"random generator state is malformed: {state!r}")
    probe = type(rng.bit_generator)()
    try:
        probe.state = state
    except (TypeError, ValueError, KeyError) as exc:
        raise ValueError(f"random generator state is malformed: {exc}") from None
    rng.bit_generator.state = state
