"""The public constructors: ``gradstep.jax.adam(...)`` for every registered optimizer,
``get`` and ``from_optimizer``.

A factory is built per registered class from the registry (the single source of
truth), so an optimizer registered later gets one too. It validates its arguments with
the NumPy class (same names, defaults and errors) and returns the transformation.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .. import optimizers
from ..optimizers import Optimizer
from ._state import KerasState
from ._transform import (
    check_keywords,
    float_hyperparams,
    registered_name,
    state_tag,
    transformation,
)

__all__ = ["factory", "get", "from_optimizer"]


# The keyword-only arguments every constructor takes besides its class's own, with
# None (not given / off) as their default in the signature.
_KEYWORD_ONLY = ("learning_rate", "clipnorm", "clipvalue", "global_clipnorm", "flavour")


@functools.cache
def factory(cls: type[Optimizer]) -> Callable[..., optax.GradientTransformation]:
    """The ``gradstep.jax`` constructor of optimizer class ``cls`` (one per class)."""
    name = registered_name(cls)

    def make(*args: Any, **kwargs: Any) -> optax.GradientTransformation:
        check_keywords(cls, kwargs)
        static = check_static(kwargs.pop("static_hyperparams", False))
        if "learning_rate" in kwargs and kwargs["learning_rate"] is None:
            del kwargs["learning_rate"]  # the signature's default: not given
        args, kwargs = plain_arguments(cls, name, args, kwargs)
        return transformation(cls(*args, engine="reference", **kwargs), static)

    make.__name__ = make.__qualname__ = name
    make.__module__ = "gradstep.jax"
    make.__doc__ = (
        f"The Keras 2.2 {cls.__name__} as an ``optax.GradientTransformation``: the "
        f"arguments, defaults and update of ``gradstep.optimizers.{cls.__name__}`` "
        "(below), the float hyperparameters held in the state's ``hyperparams`` "
        "(``static_hyperparams=True``: constants of the compiled step instead).\n\n"
        + (inspect.getdoc(cls) or "")
    )
    signature = inspect.signature(cls.__init__)
    parameters = [p for p in signature.parameters.values() if p.name != "self"]
    parameters = [p for p in parameters if p.kind is not p.VAR_KEYWORD]
    parameters += [
        inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=None)
        for k in _KEYWORD_ONLY
    ]
    parameters.append(
        inspect.Parameter(
            "static_hyperparams", inspect.Parameter.KEYWORD_ONLY, default=False
        )
    )
    make.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=parameters, return_annotation="optax.GradientTransformation"
    )
    return make


def plain_arguments(
    cls: type, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``args`` and ``kwargs`` with every concrete 0-d array (JAX's or NumPy's) as a
    Python number (``adam(jnp.asarray(1e-3))``, as optax takes it). A traced value (a
    constructor called inside ``jax.jit``, e.g. by ``optax.inject_hyperparams``) raises
    ``TypeError``: the hyperparameters are in the state already (``set_hyperparams``).
    """
    names = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    names += [f"argument {i + 1}" for i in range(len(names), len(args))]
    plain_args = tuple(_plain(name, key, value) for key, value in zip(names, args))
    return plain_args, {k: _plain(name, k, v) for k, v in kwargs.items()}


def _plain(owner: str, key: str, value: Any) -> Any:
    """``value`` as a Python scalar when it is a concrete 0-d JAX (or NumPy) array."""
    if isinstance(value, jax.core.Tracer):
        raise TypeError(
            f"gradstep.jax.{owner} got a traced {key} ({value!r}): its arguments are "
            "fixed at construction, outside jax.jit. The float hyperparameters live in "
            f"the state: build gradstep.jax.{owner}(...) once and change them with "
            f"gradstep.jax.set_hyperparams(state, {key}=...) (no recompilation; "
            "optax.inject_hyperparams is not needed)"
        )
    if isinstance(value, (jax.Array, np.ndarray)) and np.ndim(value) == 0:
        return value.item()
    return value


def check_static(value: Any) -> bool:
    """``static_hyperparams`` must be a bool (a flag of the compiled step)."""
    if not isinstance(value, bool):
        raise TypeError(
            f"static_hyperparams must be True or False, got {type(value).__name__} "
            f"{value!r}"
        )
    return value


def get(
    identifier: Any, static_hyperparams: bool = False
) -> optax.GradientTransformation:
    """The transformation of anything ``gradstep.optimizers.get`` accepts: a name
    (``"adam"``), a config dict (``{"class_name": "Adam", "config": {...}}``) or an
    optimizer instance (its configuration; use ``from_optimizer`` for its state too).
    ``static_hyperparams``: see ``transformation``."""
    return transformation(optimizers.get(identifier), check_static(static_hyperparams))


def from_optimizer(
    opt: Optimizer, params: Any = None, static_hyperparams: bool = False
) -> tuple[optax.GradientTransformation, KerasState | None]:
    """A gradstep optimizer's transformation and state.

    The transformation has ``opt``'s configuration as it is now (``lr`` included). The
    state holds ``opt``'s weights when it is built (its counter, slots and Nadam's
    ``m_schedule``; the slots as a list in the optimizer's parameter order, or in the
    structure and dtypes of ``params`` when given, as ``tx.init(params)`` has them);
    otherwise it is ``tx.init(params)``, or None when ``params`` is not given either.
    ``static_hyperparams``: see ``transformation``.
    """
    if not isinstance(opt, Optimizer):
        raise TypeError(
            f"from_optimizer expects a gradstep.optimizers.Optimizer, got "
            f"{type(opt).__name__}"
        )
    static = check_static(static_hyperparams)
    tx = transformation(opt, static)
    weights = opt.get_weights()
    if not weights:
        return tx, None if params is None else tx.init(params)
    layout = opt.weight_layout()
    unpacked = layout.unpack(weights)
    assert unpacked is not None and layout.shapes is not None
    count = len(layout.shapes)
    treedef = None
    dtypes: list[Any] = [None] * count
    if params is not None:
        leaves, treedef = jax.tree_util.tree_flatten(params)
        shapes = [tuple(jnp.shape(p)) for p in leaves]
        if shapes != [tuple(s) for s in layout.shapes]:
            raise ValueError(
                f"params have leaf shapes {shapes}; the optimizer was built for "
                f"{[tuple(s) for s in layout.shapes]}"
            )
        dtypes = [jnp.result_type(p) for p in leaves]  # the slots of tx.init(params)
    slots = {}
    for k, name in enumerate(layout.slot_names):
        arrays = [
            jnp.asarray(a, dtype)
            for a, dtype in zip(unpacked.slots[k * count : (k + 1) * count], dtypes)
        ]
        slots[name] = (
            arrays if treedef is None else jax.tree_util.tree_unflatten(treedef, arrays)
        )
    dtype = jnp.result_type(float)
    state = KerasState(
        count=jnp.asarray(unpacked.iterations, jnp.int32),
        slots=slots,
        scalars={k: jnp.asarray(v, dtype) for k, v in unpacked.scalars.items()},
        hyperparams={}
        if static
        else {k: jnp.asarray(v, dtype) for k, v in float_hyperparams(opt).items()},
        tag=state_tag(opt, static),
    )
    return tx, state
