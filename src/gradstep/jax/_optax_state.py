"""optax's own state, taken over by a gradstep.jax transformation of ``flavour="optax"``,
and handed back (``to_optax_state``).

``from_optax_state(tx, optax_state, params)`` is ``tx.init(params)`` holding what the
state of optax's transformation of the same algorithm holds, so a run started with
``optax.adam`` continues with ``gradstep.jax.adam(flavour="optax")`` and the same
numbers: each slot is found by its optax field name (the optax variant's
``state_names``: ``mu``, ``nu``, ``trace``...), searched among the fields of the
named tuples anywhere in the state (chains and ``inject_hyperparams`` states too; a
parameter named ``mu`` is no field); optax's ``count``
becomes the counter; a slot optax keeps with the other sign (``negated_state``:
RMSprop's momentum trace, which holds updates already times -lr) is negated. The
hyperparameters are ``tx``'s own.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..optimizers import _registry
from ..optimizers._flavours import DEFAULT_FLAVOUR
from ._state import KerasState

__all__ = ["from_optax_state", "to_optax_state"]

_MISSING = object()
OPTAX_FLAVOUR = "optax"


def from_optax_state(
    tx: optax.GradientTransformation,
    optax_state: Any,
    params: Any,
    count: Any = None,
) -> KerasState:
    """``tx.init(params)`` with the slots and counter of ``optax_state``.

    Args:
        tx: a gradstep.jax transformation made with ``flavour="optax"``.
        optax_state: the state of optax's transformation of the same algorithm and
            settings (``optax.adam(lr).init(params)`` and after), alone or inside a
            chain or ``inject_hyperparams`` state.
        params: the parameters (the slots take their structure and dtypes).
        count: the steps taken, where optax's state keeps no ``count`` (its sgd,
            rmsprop, adagrad and adadelta); 0 when not given. Only ``decay`` reads it.

    Raises:
        TypeError: ``tx`` is not a gradstep.jax transformation.
        ValueError: ``tx`` is of another flavour; ``optax_state`` lacks a slot's field,
            holds it twice, or holds it in another structure or shape than ``params``;
            its counts disagree.
    """
    state = tx.init(params)
    if not isinstance(state, KerasState):
        raise TypeError(
            "from_optax_state expects a gradstep.jax transformation (its init gives a "
            f"KerasState); this one's init gives {type(state).__name__}"
        )
    name, config = state.tag[0], dict(state.tag[1])
    variant = _optax_variant(state)
    slots = {}
    for slot, start in state.slots.items():
        field = variant.state_names[slot]
        found = _field(optax_state, field, slot, name)
        if found is _MISSING:
            if config.get("momentum") == 0:
                slots[slot] = start  # optax keeps no trace: nothing it would read
                continue
            raise ValueError(
                f"from_optax_state: optax_state has no {field!r} (gradstep's {slot!r} "
                f"of {name}); it holds {_fields(optax_state)}: is it the state of "
                f"optax's {name} with the same settings?"
            )
        what = f"from_optax_state: optax_state's {field!r}"
        slots[slot] = _as_slot(found, start, what, slot in variant.negated_state)
    return state.replace(slots=slots, count=_count(optax_state, count, state.count))


def to_optax_state(
    state: KerasState, optax_tx: optax.GradientTransformation, params: Any
) -> Any:
    """``optax_tx.init(params)`` holding the slots and counter of ``state`` (a
    ``flavour="optax"`` gradstep.jax state): the way back to optax's transformation of
    the same algorithm and settings. Every ``count`` in optax's state (its
    ``inject_hyperparams`` one too) takes the counter.

    Raises:
        TypeError: ``state`` is not a gradstep.jax state.
        ValueError: it is of another flavour; optax's state has a slot's field not
            once (SGD's ``moment`` without momentum, which optax keeps none of, is
            left out).
    """
    if not isinstance(state, KerasState):
        raise TypeError(
            f"to_optax_state expects a gradstep.jax state (KerasState), got "
            f"{type(state).__name__}"
        )
    variant = _optax_variant(state, "to_optax_state")
    optax_state = optax_tx.init(params)
    values = {}
    for slot, value in state.slots.items():
        field = variant.state_names[slot]
        found = _named_fields(optax_state, field)
        if not found and dict(state.tag[1]).get("momentum") == 0:
            continue  # optax keeps no trace without momentum
        if len(found) != 1:
            raise ValueError(
                f"to_optax_state: optax_tx's state holds {field!r} (gradstep's "
                f"{slot!r}) {len(found)} times, expected once; it holds "
                f"{_fields(optax_state)}"
            )
        what = f"to_optax_state: the state's {slot!r}"
        values[field] = _as_slot(value, found[0], what, slot in variant.negated_state)
    if _named_fields(optax_state, "count"):
        values["count"] = state.count
    return _with_fields(optax_state, values)


def _optax_variant(state: KerasState, caller: str = "from_optax_state") -> Any:
    """The optax variant of the optimizer that made ``state``; ``ValueError`` when
    it is of another flavour."""
    name, config = state.tag[0], dict(state.tag[1])
    flavour = config.get("flavour", DEFAULT_FLAVOUR)
    if flavour != OPTAX_FLAVOUR:
        raise ValueError(
            f"{caller}: the transformation has flavour={flavour!r}; optax's state "
            f"holds optax's quantities, which flavour={OPTAX_FLAVOUR!r} computes: "
            f"build it with flavour={OPTAX_FLAVOUR!r}"
        )
    return _registry.registered_classes()[name].flavours[OPTAX_FLAVOUR]


def _is_named(tree: Any) -> bool:
    return isinstance(tree, tuple) and hasattr(tree, "_fields")


def _named_fields(tree: Any, field: str) -> list[Any]:
    """The values of every named-tuple field ``field`` in ``tree`` (optax's states are
    named tuples in tuples, lists and dicts)."""
    if _is_named(tree):
        found = []
        for name in tree._fields:
            value = getattr(tree, name)
            found.extend([value] if name == field else _named_fields(value, field))
        return found
    if isinstance(tree, (tuple, list)):
        return [v for item in tree for v in _named_fields(item, field)]
    if isinstance(tree, dict):
        return [v for item in tree.values() for v in _named_fields(item, field)]
    return []


def _with_fields(tree: Any, values: dict[str, Any]) -> Any:
    """``tree`` with every named-tuple field named in ``values`` replaced."""
    if _is_named(tree):
        return tree._replace(
            **{
                name: values[name]
                if name in values
                else _with_fields(getattr(tree, name), values)
                for name in tree._fields
            }
        )
    if isinstance(tree, (tuple, list)):
        return type(tree)(_with_fields(item, values) for item in tree)
    if isinstance(tree, dict):
        return {k: _with_fields(v, values) for k, v in tree.items()}
    return tree


def _field(optax_state: Any, field: str, slot: str, name: str) -> Any:
    found = _named_fields(optax_state, field)
    if len(found) > 1:
        raise ValueError(
            f"from_optax_state: optax_state holds {field!r} (gradstep's {slot!r} of "
            f"{name}) more than once; pass the state of the one transformation"
        )
    return found[0] if found else _MISSING


def _as_slot(found: Any, start: Any, what: str, negated: bool) -> Any:
    """``found`` in the structure, shapes and dtypes of ``start`` (tx.init's slot)."""
    if jax.tree_util.tree_structure(found) != jax.tree_util.tree_structure(start):
        raise ValueError(
            f"{what} has the structure "
            f"{jax.tree_util.tree_structure(found)}; the params have "
            f"{jax.tree_util.tree_structure(start)}"
        )
    leaves, theirs = jax.tree_util.tree_leaves(start), jax.tree_util.tree_leaves(found)
    for i, (ours, value) in enumerate(zip(leaves, theirs)):
        if jnp.shape(value) != jnp.shape(ours):
            raise ValueError(
                f"{what} leaf {i} has shape "
                f"{jnp.shape(value)}; the parameter has {jnp.shape(ours)}"
            )
    sign = -1 if negated else 1
    return jax.tree_util.tree_map(
        lambda value, ours: (sign * jnp.asarray(value)).astype(ours.dtype), found, start
    )


def _count(optax_state: Any, given: Any, start: Any) -> Any:
    """optax's ``count`` (every one in the state agreeing), else ``given`` or 0."""
    counts = _named_fields(optax_state, "count")
    if given is not None:
        counts.append(given)
    if not counts:
        return start
    values = {int(np.asarray(c)) for c in counts}
    if len(values) > 1:
        raise ValueError(
            f"from_optax_state: the counts in optax_state (and count=) disagree: "
            f"{sorted(values)}"
        )
    return jnp.asarray(values.pop(), start.dtype)


def _fields(optax_state: Any) -> str:
    """The named tuples of a state and their fields, for messages."""
    found = jax.tree_util.tree_leaves(
        optax_state, is_leaf=lambda x: hasattr(x, "_fields")
    )
    named = [x for x in found if hasattr(x, "_fields")]
    return (
        ", ".join(f"{type(x).__name__}({', '.join(x._fields)})" for x in named)
        or "no named fields"
    )
