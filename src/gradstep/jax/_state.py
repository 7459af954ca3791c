"""``KerasState``: the state of a gradstep.jax transformation, a pytree of arrays.

Its leaves are the step counter ``count`` (int32, the Keras ``iterations`` before the
next step), every slot (``slots[name]``, one pytree shaped like the parameters), the host
scalars of the algorithm (``scalars["m_schedule"]`` for Nadam) and the float
hyperparameters (``hyperparams["lr"]``...), which the update reads from the state, as
``optax.inject_hyperparams`` does, so setting them never recompiles a jitted step.

The treedef carries a ``tag``: the optimizer's registered name and its full
constructor configuration. ``update`` compares it with its own, so a state made by
another optimizer or configuration is refused with a message naming both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "KerasState",
    "STATIC_HYPERPARAMS",
    "TRACED",
    "PER_STEP",
    "per_step_names",
    "set_hyperparams",
    "find_states",
]


class _Tag(tuple):
    """The static identity of a state (a tuple): a pytree node without children, so
    it lives in the treedef, not among the leaves."""

    __slots__ = ()


jax.tree_util.register_pytree_node(
    _Tag, lambda tag: ((), tuple(tag)), lambda tag, _: _Tag(tag)
)


class _Fields(NamedTuple):
    count: Any
    slots: dict[str, Any]
    scalars: dict[str, Any]
    hyperparams: dict[str, Any]
    tag: _Tag


class KerasState(_Fields):
    """The counter, slots, host scalars and float hyperparameters of one transformation.

    A NamedTuple, as optax's states are, so ``optax.tree.get(state, "count")`` and
    ``optax.tree.set`` find its fields (and the dicts' entries: ``"lr"``, ``"m"``).

    Attributes:
        count: int32 array, the number of steps taken (Keras's ``iterations``).
        slots: slot name -> pytree of arrays with the parameters' structure.
        scalars: host scalar name -> 0-d float array (Nadam's ``m_schedule``).
        hyperparams: name -> 0-d float array (``lr``, ``decay``, ``beta_1``...).
        tag: the static identity of the transformation that made the state (a tuple
            in the treedef, no leaf).
    """

    __slots__ = ()

    def __new__(
        cls,
        count: Any,
        slots: Mapping[str, Any],
        scalars: Mapping[str, Any],
        hyperparams: Mapping[str, Any],
        tag: tuple[Any, ...],
    ) -> KerasState:
        return super().__new__(
            cls, count, dict(slots), dict(scalars), dict(hyperparams), _Tag(tag)
        )

    def _replace(self, **changes: Any) -> KerasState:
        fields = self._asdict()
        fields.update(changes)
        return KerasState(**fields)

    def replace(self, **changes: Any) -> KerasState:
        """A copy with some of ``count``, ``slots``, ``scalars``, ``hyperparams``."""
        unknown = set(changes) - {"count", "slots", "scalars", "hyperparams"}
        if unknown:
            raise TypeError(f"KerasState.replace got unknown fields {sorted(unknown)}")
        return self._replace(**changes)

    def __repr__(self) -> str:
        return (
            f"KerasState(count={self.count!r}, slots={sorted(self.slots)}, "
            f"scalars={self.scalars!r}, hyperparams={self.hyperparams!r}, "
            f"tag={self.tag!r})"
        )


def find_states(state: Any) -> list[KerasState]:
    """Every ``KerasState`` inside ``state`` (e.g. within ``optax.chain``'s tuple)."""
    leaves = jax.tree_util.tree_leaves(
        state, is_leaf=lambda x: isinstance(x, KerasState)
    )
    return [leaf for leaf in leaves if isinstance(leaf, KerasState)]


# The mark in the tag of a state whose transformation has its hyperparameters as
# constants (``static_hyperparams=True``): such a state holds none.
STATIC_HYPERPARAMS = "static hyperparameters"

# The value in the tag of a hyperparameter the transformation was given traced (its
# constructor called inside ``jax.jit``, as ``optax.inject_hyperparams`` does).
TRACED = "<traced>"
# The mark in the tag, ``(PER_STEP, names)``, of a state whose transformation was given
# hyperparameters as JAX arrays: it steps with those, whatever the state holds.
PER_STEP = "per-step hyperparameters"


def per_step_names(tag: tuple[Any, ...]) -> tuple[str, ...]:
    """The names of the per-step hyperparameters of a state's ``tag``."""
    for mark in tag[2:]:
        if isinstance(mark, tuple) and mark and mark[0] == PER_STEP:
            return tuple(mark[1])
    return ()


def _validate(tag: tuple[Any, ...], values: Mapping[str, Any]) -> None:
    """Concrete new values are checked by the NumPy class, as ``opt.lr = x`` is
    (``ValueError`` naming the hyperparameter); traced ones cannot be. An array of
    values (one per problem of a ``jax.vmap``-ed state) is checked value by value."""
    from ..optimizers import lookup

    cls = lookup(tag[0])
    if cls is None or any(isinstance(v, jax.core.Tracer) for v in values.values()):
        return
    config = dict(tag[1])
    if TRACED in config.values():  # made with traced hyperparameters: unknown
        return
    arrays = {k: v for k, v in values.items() if np.ndim(v) > 0}
    config.update({k: _number(k, v) for k, v in values.items() if k not in arrays})
    cls(**config, engine="reference")
    for key, array in arrays.items():
        for value in np.unique(np.asarray(array, dtype=float)):
            cls(**{**config, key: float(value)}, engine="reference")


def _number(name: str, value: Any) -> float:
    """A new value as a Python float (a 0-d array's too); anything that is not a real
    number (``None``, a string) raises ``ValueError`` naming ``name``, as assigning it
    to the NumPy optimizer does."""
    from ..optimizers._hyper import real_number

    if isinstance(value, (jax.Array, np.ndarray)):
        value = value.item()
    return float(real_number(name, value, "a real number"))


def _check_shapes(found: KerasState, values: Mapping[str, Any]) -> None:
    """Every new value broadcasts to the shape the state holds (``()``, or the batch
    of a ``jax.vmap``-ed state)."""
    for key, value in values.items():
        held = jnp.shape(found.hyperparams[key])
        try:
            shape = jnp.broadcast_shapes(jnp.shape(value), held)
        except ValueError:
            shape = None
        if shape != held:
            raise ValueError(
                f"set_hyperparams got {key} of shape {jnp.shape(value)}; the state "
                f"holds {key} of shape {held}: pass a number or an array of that shape"
            )


def _placed_like(value: Any, held: Any) -> Any:
    """``value`` with the sharding of the leaf ``held`` it replaces (a concrete array
    spread over several devices), so a jitted step sees the same input shardings and
    does not compile again; as it is otherwise."""
    if isinstance(held, jax.core.Tracer) or isinstance(value, jax.core.Tracer):
        return value
    if not isinstance(held, jax.Array) or len(held.sharding.device_set) < 2:
        return value
    return jax.device_put(value, held.sharding)


def set_hyperparams(state: Any, **values: float) -> Any:
    """``state`` with new values of float hyperparameters, e.g. ``lr=1e-4``.

    Works on a gradstep.jax state and on any state holding one (``optax.chain``,
    ``MultiSteps``, ``apply_if_finite``): every ``KerasState`` inside gets the values, as
    arrays of the dtype and shape it already holds (a number fills every problem of a
    ``jax.vmap``-ed state), so a jitted step does not recompile. Unknown
    names raise ``KeyError`` listing the hyperparameters the state has; invalid values
    (``lr=-1``) the NumPy optimizer's ``ValueError``.
    """
    states = find_states(state)
    if not states:
        raise TypeError(
            f"set_hyperparams got a {type(state).__name__} holding no gradstep.jax state"
        )
    for found in states:
        if STATIC_HYPERPARAMS in found.tag[2:]:
            raise ValueError(
                "the state's hyperparameters are constants of the compiled step "
                "(static_hyperparams=True): make a new transformation with the new "
                "values, or one without static_hyperparams to change them in the state"
            )
        fixed = [k for k in values if k in per_step_names(found.tag)]
        if fixed:
            raise ValueError(
                f"the state's {fixed[0]} is an input of every step: its transformation "
                f"was given {fixed[0]} as a JAX array (as optax.inject_hyperparams "
                "does), and steps with that value whatever the state holds; change it "
                "there (an inject_hyperparams state's hyperparams), or give the "
                "transformation a number to keep it in the state"
            )
        unknown = [k for k in values if k not in found.hyperparams]
        if unknown:
            raise KeyError(
                f"the state has no hyperparameter {unknown[0]!r}; it holds "
                f"{', '.join(found.hyperparams)}"
            )
        _validate(found.tag, values)
        _check_shapes(found, values)

    def new(leaf: Any) -> Any:
        if not isinstance(leaf, KerasState):
            return leaf
        hyper = dict(leaf.hyperparams)
        for key, value in values.items():
            held = jnp.asarray(hyper[key])
            fresh = jnp.broadcast_to(jnp.asarray(value, held.dtype), held.shape)
            hyper[key] = _placed_like(fresh, hyper[key])
        return leaf.replace(hyperparams=hyper)

    return jax.tree_util.tree_map(
        new, state, is_leaf=lambda x: isinstance(x, KerasState)
    )
