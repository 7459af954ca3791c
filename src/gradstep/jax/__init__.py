"""The Keras 2.2 optimizers as optax transformations (``pip install gradstep[jax]``).

``gradstep.jax.adam(lr=1e-3)`` is an ``optax.GradientTransformation`` computing exactly
what ``gradstep.optimizers.Adam`` (and Keras 2.2) computes: same names, defaults and
equations, the same per-element rule and coefficient functions, traced by JAX. Works on
any pytree of float arrays, float32 and float64 (``jax_enable_x64``), under ``jax.jit``,
with sharded parameters, and composes with ``optax.chain``, ``optax.MultiSteps`` and
``optax.apply_if_finite``. ``update`` needs ``params`` (the rules compute new
parameters; the update is ``p_new - p``).

The state (``KerasState``) holds the step counter ``count``, every slot, Nadam's
``m_schedule`` and the float hyperparameters (``state.hyperparams["lr"]``, as with
``optax.inject_hyperparams``): change them with ``set_hyperparams(state, lr=1e-4)``
without recompiling a jitted step (or pass ``static_hyperparams=True`` to make them
constants of the compiled step, as a plain optax transformation does). ``clipnorm`` (one
global norm over the whole pytree),
``clipvalue`` and the flags (``amsgrad``, ``nesterov``) are static. Importing
``gradstep`` alone never imports jax.

Example:
    >>> import jax, jax.numpy as jnp, optax
    >>> import gradstep.jax
    >>> params = {"w": jnp.array([1.0, -1.0])}
    >>> tx = gradstep.jax.adam(lr=0.1)
    >>> state = tx.init(params)
    >>> grads = {"w": jnp.array([0.5, -2.0])}
    >>> updates, state = jax.jit(tx.update)(grads, state, params)
    >>> params = optax.apply_updates(params, updates)
    >>> [round(float(x), 5) for x in params["w"]]
    [0.9, -0.9]
"""

from __future__ import annotations

try:
    import jax as _jax  # noqa: F401 - absolute import: JAX, not this package
    import optax as _optax  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "gradstep.jax needs JAX and optax; install them (from a clone) with "
        '`pip install -e ".[jax]"`'
    ) from error

from collections.abc import Callable
from typing import Any

from ..optimizers import _registry
from ._factories import factory, from_optimizer, get
from ._optax_state import from_optax_state, to_optax_state
from ._state import KerasState, find_states, set_hyperparams
from ._transform import transformation

# One constructor per registered optimizer (``gradstep.jax.adam``...), built from the
# registry, the single source of truth, on first access.
__all__ = [
    "KerasState",
    "find_states",
    "from_optax_state",
    "from_optimizer",
    "get",
    "set_hyperparams",
    "to_optax_state",
    "transformation",
    *sorted(_registry.builtin_classes()),
]


def __getattr__(name: str) -> Callable[..., Any]:
    cls = _registry.registered_classes().get(name)
    if cls is not None:
        return factory(cls)
    raise AttributeError(f"module 'gradstep.jax' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_registry.registered_classes()))
