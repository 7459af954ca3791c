"""The optimizers' rules, coefficients and the clipping element, run with jax.numpy.

``elementwise.rebind`` gives the same code objects with ``sqrt``, ``maximum`` and
``minimum`` bound to ``jax.numpy``'s; nothing of the math is written here. Under
``jax.jit`` the coefficients are computed from traced values (the counter and the
hyperparameters held in the state), which they allow: see ``Optimizer``'s contract.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp

from ..kernels.clip import clip_element
from ..kernels.elementwise import rebind

__all__ = ["jax_function", "jax_clip_element"]

_FUNCTIONS = {"sqrt": jnp.sqrt, "maximum": jnp.maximum, "minimum": jnp.minimum}


@functools.cache
def jax_function(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` (a rule, ``coefficients`` or ``next_scalars``) with its element-wise
    functions bound to jax.numpy's (cached per function)."""
    return rebind(function, **_FUNCTIONS)


jax_clip_element = rebind(clip_element, maximum=jnp.maximum, minimum=jnp.minimum)
