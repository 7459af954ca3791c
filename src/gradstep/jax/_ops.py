"""The optimizers' rules, coefficients and the clipping element, run with jax.numpy.

``elementwise.rebind`` gives the same code objects with ``sqrt``, ``maximum`` and
``minimum`` bound to ``jax.numpy``'s (``sqrt`` as ``kept_sqrt``); nothing of the math
is written here. Under ``jax.jit`` the coefficients are computed from traced values
(the counter and the hyperparameters held in the state), which they allow: see
``Optimizer``'s contract.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from ..kernels.clip import clip_element, tensor_norm_factor
from ..kernels.elementwise import rebind

__all__ = [
    "jax_function",
    "jax_clip_element",
    "jax_tensor_norm_factor",
    "additive_form",
    "kept_sqrt",
    "opaque_one",
]


def opaque_one(dtype: Any) -> Any:
    """1 of ``dtype`` that XLA cannot fold away (an optimization barrier)."""
    return jax.lax.optimization_barrier(jnp.ones((), dtype))


def kept_sqrt(x: Any) -> Any:
    """``jnp.sqrt(x)`` times a 1 XLA cannot fold (exact), so that ``a / sqrt(b)`` stays
    a square root and a division: XLA rewrites ``a / sqrt(b)`` as ``a * rsqrt(b)``,
    which rounds otherwise than the rules' NumPy engines and which XLA:CPU runs ~7x
    slower than the two (benchmarks/RESULTS.md, section 4, run 5)."""
    root = jnp.sqrt(x)
    return root * opaque_one(root.dtype)


_FUNCTIONS = {"sqrt": kept_sqrt, "maximum": jnp.maximum, "minimum": jnp.minimum}


@functools.cache
def jax_function(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` (a rule, ``coefficients`` or ``next_scalars``) with its element-wise
    functions bound to jax.numpy's (cached per function)."""
    return rebind(function, **_FUNCTIONS)


jax_clip_element = rebind(clip_element, maximum=jnp.maximum, minimum=jnp.minimum)
jax_tensor_norm_factor = rebind(tensor_norm_factor, maximum=jnp.maximum)


@functools.cache
def additive_form(
    rule: Callable[..., Any], coefficients_type: type, slot_count: int
) -> str | None:
    """``"add"`` or ``"sub"`` when ``rule``'s new parameter is ``p + d`` or ``p - d``
    with ``d`` and every new slot independent of ``p``; else None (read off the rule's
    jaxpr, traced once on scalars).

    Then ``rule(0, ...)`` gives the update itself (``0 + d == d`` and ``0 - d == -d``
    exactly) and ``p + update`` equals the rule's ``p ± d`` bit for bit, without the
    ``p_new - p`` round trip (which costs a pass of arithmetic per step).
    """
    import jax

    fields = len(coefficients_type._fields)  # type: ignore[attr-defined]
    jitted = jax_function(rule)

    def scalar_rule(p: Any, g: Any, *rest: Any) -> Any:
        slots, c = rest[:slot_count], rest[slot_count:]
        return jitted(p, g, *slots, coefficients_type(*c))

    x = jnp.zeros((), jnp.float32)
    try:
        closed = jax.make_jaxpr(scalar_rule)(*([x] * (2 + slot_count + fields)))
    except Exception:  # noqa: BLE001 - a rule that does not trace on scalars
        return None
    jaxpr = closed.jaxpr
    p = jaxpr.invars[0]
    depends = {id(p)}  # by identity: literals are not hashable
    producer = {}
    for eqn in jaxpr.eqns:
        for out in eqn.outvars:
            producer[id(out)] = eqn
        if any(id(v) in depends for v in eqn.invars):
            depends.update(id(out) for out in eqn.outvars)
    new_p, *new_slots = jaxpr.outvars
    if any(id(v) in depends for v in new_slots):
        return None
    eqn = producer.get(id(new_p))
    if eqn is None or eqn.primitive.name not in ("add", "sub") or eqn.params:
        return None
    first, second = eqn.invars
    if first is not p or id(second) in depends:
        return None
    return eqn.primitive.name
