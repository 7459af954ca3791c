"""The checks of a transformation's inputs, run in Python when ``init``/``update`` are
traced (under ``jax.jit`` too), so every bad input raises before any update is computed.

Each error names the leaf by its path in the pytree (``['dense']['w']``) and says what
was expected.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._state import STATIC_HYPERPARAMS, KerasState, per_step_names

__all__ = ["float_leaves", "check_grads", "check_state", "check_slot_shapes"]


def _path(path: Any) -> str:
    return jax.tree_util.keystr(path) or "<root>"


def float_leaves(what: str, tree: Any, abstract: bool = False) -> tuple[list[Any], Any]:
    """The leaves of ``tree`` (all floating-point, as JAX arrays: a Python float
    becomes a 0-d one) and its treedef. ``abstract``: a ``jax.ShapeDtypeStruct`` leaf
    is accepted and kept as it is (``init`` of abstract params, as optax's take them);
    otherwise it is refused, naming the leaf.

    An empty pytree is accepted, as optax's transformations accept it: its step is a
    no-op (``optax.masked`` with an all-False mask, or ``optax.multi_transform`` with a
    label no parameter has, hands the inner transformation one).
    """
    with_paths, treedef = jax.tree_util.tree_flatten_with_path(tree)
    leaves = []
    for path, leaf in with_paths:
        try:
            dtype = np.dtype(jnp.result_type(leaf))
        except TypeError:
            raise TypeError(
                f"{what} leaf {_path(path)} is a {type(leaf).__name__}; expected a "
                "floating-point array"
            ) from None
        if not jnp.issubdtype(dtype, jnp.floating):
            raise TypeError(
                f"{what} leaf {_path(path)} has dtype {dtype}; expected a "
                "floating-point array (float16, bfloat16, float32 or float64)"
            )
        if abstract and isinstance(leaf, jax.ShapeDtypeStruct):
            leaves.append(leaf)
            continue
        try:
            leaves.append(jnp.asarray(leaf))
        except TypeError:
            raise TypeError(
                f"{what} leaf {_path(path)} is a {type(leaf).__name__}; expected a "
                "floating-point array"
            ) from None
    return leaves, treedef


def check_grads(grads: Any, params: Any) -> tuple[list[Any], list[Any], Any]:
    """``(grads leaves, params leaves, treedef)``: grads with the structure, shapes and
    floating dtypes of params."""
    p_leaves, p_def = float_leaves("params", params)
    g_def = jax.tree_util.tree_structure(grads)
    if g_def != p_def:
        raise ValueError(
            f"the gradients' pytree structure {g_def} differs from the parameters' "
            f"{p_def}; pass grads with the structure of params"
        )
    g_leaves, _ = float_leaves("grads", grads)
    paths = [path for path, _ in jax.tree_util.tree_flatten_with_path(params)[0]]
    for path, g, p in zip(paths, g_leaves, p_leaves):
        if jnp.shape(g) != jnp.shape(p):
            raise ValueError(
                f"grads leaf {_path(path)} has shape {jnp.shape(g)} but its parameter "
                f"has shape {jnp.shape(p)}; they must match"
            )
    return g_leaves, p_leaves, p_def


def check_state(
    state: Any,
    tag: tuple[Any, ...],
    owner: str,
    treedef: Any,
    fields: Mapping[str, Collection[str]] | None = None,
    ignore: Collection[str] = (),
) -> None:
    """``state`` must be a ``KerasState`` of this transformation (same ``tag``, but for
    the hyperparameters ``ignore`` names) holding the names ``fields`` lists
    (``{"slots": ..., "scalars": ..., "hyperparams": ...}``) and whose slots have the
    parameters' structure."""
    if not isinstance(state, KerasState):
        raise TypeError(
            f"{owner}.update got a state of type {type(state).__name__}; expected the "
            f"KerasState made by this transformation's init"
        )
    if _without(state.tag, ignore) != _without(tag, ignore):
        raise ValueError(
            f"{owner}.update got the state of another optimizer or configuration: "
            f"the state was made by {_describe(state.tag)}, this transformation is "
            f"{_describe(tag)}"
        )
    for field, names in (fields or {}).items():
        held = getattr(state, field)
        if set(held) != set(names):
            raise ValueError(
                f"{owner}.update got a state whose {field} hold "
                f"{sorted(held) or 'nothing'}; this transformation's hold "
                f"{sorted(names) or 'nothing'} (a state edited by hand, or restored "
                "from another layout)"
            )
    for name, slot in state.slots.items():
        slot_def = jax.tree_util.tree_structure(slot)
        if slot_def != treedef:
            raise ValueError(
                f"the state's slot {name!r} has pytree structure {slot_def}, the "
                f"parameters {treedef}; the state was made for other parameters"
            )


def check_slot_shapes(state: KerasState, p_leaves: list[Any], params: Any) -> None:
    """Every slot leaf has its parameter's shape."""
    paths = [path for path, _ in jax.tree_util.tree_flatten_with_path(params)[0]]
    for name, slot in state.slots.items():
        for path, s, p in zip(paths, jax.tree_util.tree_leaves(slot), p_leaves):
            if jnp.shape(s) != jnp.shape(p):
                raise ValueError(
                    f"the state's slot {name!r} leaf {_path(path)} has shape "
                    f"{jnp.shape(s)} but the parameter has shape {jnp.shape(p)}; the "
                    "state was made for other parameters"
                )


def _without(tag: tuple[Any, ...], keys: Collection[str]) -> tuple[Any, ...]:
    """``tag`` (as a plain tuple) without the config entries of ``keys``."""
    if not keys:
        return tuple(tag)
    name, config, *marks = tag
    return (name, tuple((k, v) for k, v in config if k not in keys), *marks)


def _describe(tag: tuple[Any, ...]) -> str:
    name, config, *marks = tag
    args = ", ".join(f"{k}={v!r}" for k, v in config)
    static = ", static_hyperparams=True" if STATIC_HYPERPARAMS in marks else ""
    per_step = per_step_names(tag)
    if per_step:
        static += f"; {', '.join(per_step)} given as JAX arrays"
    return f"{name}({args}{static})"
