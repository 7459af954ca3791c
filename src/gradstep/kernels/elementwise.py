"""The rule language: what a per-element rule, and an optimizer's host-side
coefficients, may call besides Python's operators and ``abs``.

Rules and coefficients import ``sqrt``, ``maximum`` and ``minimum`` from here. These are
NumPy's; an engine that runs a rule on other arrays (numba scalars, torch tensors, jax
arrays, or traced scalars under ``jax.jit``) calls the same function object with these
three names bound to its own versions (see ``rebind``), so the math of each optimizer is
written once. ``np.sqrt`` of a Python float is correctly rounded, as ``math.sqrt`` is; the
optimizer base class turns the coefficients back into Python floats.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["sqrt", "maximum", "minimum", "rebind", "ELEMENTWISE_NAMES"]

sqrt = np.sqrt
maximum = np.maximum
minimum = np.minimum

ELEMENTWISE_NAMES = ("sqrt", "maximum", "minimum")


def rebind(
    rule: Callable[..., Any], **functions: Callable[..., Any]
) -> Callable[..., Any]:
    """Return ``rule`` with the global names in ``functions`` bound to other functions.

    The code object is shared, so the result computes exactly what ``rule`` computes, with
    e.g. ``sqrt=torch.sqrt`` in place of ``numpy.sqrt``.
    """
    unknown = set(functions) - set(ELEMENTWISE_NAMES)
    if unknown:
        raise ValueError(
            f"rebind() got {sorted(unknown)}; it rebinds only {list(ELEMENTWISE_NAMES)}"
        )
    namespace = dict(rule.__globals__)
    namespace.update(functions)
    rebound = types.FunctionType(
        rule.__code__, namespace, rule.__name__, rule.__defaults__, rule.__closure__
    )
    rebound.__qualname__ = rule.__qualname__
    rebound.__doc__ = rule.__doc__
    rebound.__module__ = rule.__module__
    return rebound
