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
from ..optimizers._base import default
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
        args, kwargs = _drop_unset(cls, args, kwargs)
        given_args, given_kwargs = args, kwargs
        args, kwargs, given = _split_arrays(cls, name, args, kwargs)
        args, kwargs = plain_arguments(cls, name, args, kwargs)
        opt = cls(*args, engine="reference", **kwargs)
        per_step = _per_step(opt, name, given)
        for key, value in per_step.items():
            if isinstance(value, jax.core.Tracer):
                _check_does_not_choose(cls, name, opt, key, given_args, given_kwargs)
        return transformation(opt, static, per_step=per_step)

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
    # A default that depends on the flavour (``lr``, Adadelta's ``rho``...) shows as
    # None, "not given": ``bind(...).apply_defaults()`` (optax.inject_hyperparams does
    # it) must not pass Keras 2.2's value explicitly to another flavour.
    parameters = [
        p.replace(default=None) if isinstance(p.default, default) else p
        for p in parameters
    ]
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


def _drop_unset(
    cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``args`` and ``kwargs`` without the Nones that mean "not given" in the
    signature: ``learning_rate`` and every argument whose default is the flavour's
    (a ``default(...)`` marker of the class); a positional one gets the marker."""
    params = [
        p for n, p in inspect.signature(cls.__init__).parameters.items() if n != "self"
    ]
    flavoured = {p.name: p.default for p in params if isinstance(p.default, default)}
    args = (
        tuple(
            flavoured[p.name] if a is None and p.name in flavoured else a
            for p, a in zip(params, args)
        )
        + args[len(params) :]
    )
    kwargs = {
        k: v
        for k, v in kwargs.items()
        if not (v is None and (k in flavoured or k == "learning_rate"))
    }
    return args, kwargs


# A value that stands in for a traced hyperparameter when the NumPy class validates
# the configuration and chooses the rule: valid for every float hyperparameter, and
# > 0, so the general form is chosen (decay applied, RMSprop's momentum buffer kept),
# which gives the same numbers at 0.
_PLACEHOLDER = 0.5
# Float hyperparameters that only ``init`` reads (the slots' start): not traceable.
_INIT_ONLY = ("initial_accumulator_value",)


def _split_arrays(
    cls: type,
    name: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    at_zero: str | None = None,
) -> tuple[tuple[Any, ...], dict[str, Any], dict[str, Any]]:
    """``args``, ``kwargs`` (every traced value replaced by a placeholder, 0.0 for
    the hyperparameter ``at_zero``) and the
    hyperparameters given as 0-d JAX arrays, traced or not, by name (``learning_rate``
    is ``lr``): the inputs of every step, as ``optax.inject_hyperparams`` gives them
    (it rebuilds the transformation at each step, inside ``jax.jit`` or not)."""
    names = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    given: dict[str, Any] = {}

    def take(key: str, value: Any) -> Any:
        hyper = "lr" if key == "learning_rate" else key
        fixed = hyper in _INIT_ONLY or hyper in _KEYWORD_ONLY
        if isinstance(value, jax.core.Tracer):
            if fixed or jnp.ndim(value) != 0:
                raise TypeError(
                    f"gradstep.jax.{name} got a traced {key} ({value!r}): {key} is "
                    "fixed at construction, outside jax.jit (only the float "
                    "hyperparameters that every step reads, as 0-d arrays, may be "
                    "traced); give it as a number (with optax.inject_hyperparams: "
                    f"static_args=({key!r},))"
                )
            given[hyper] = value
            return 0.0 if hyper == at_zero else _PLACEHOLDER
        if isinstance(value, jax.Array) and np.ndim(value) == 0 and not fixed:
            given[hyper] = value
        return value

    args = tuple(
        take(names[i] if i < len(names) else f"argument {i + 1}", a)
        for i, a in enumerate(args)
    )
    kwargs = {k: take(k, v) for k, v in kwargs.items()}
    return args, kwargs, given


def _check_does_not_choose(
    cls: type,
    name: str,
    opt: Optimizer,
    key: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    """``TypeError`` when the traced ``key``'s value chooses the update: built with
    ``key`` at 0 instead of the placeholder, the optimizer has another rule that steps
    differently from the placeholder's rule at 0 (tf_keras's RMSprop: epsilon inside
    the root with momentum > 0, outside without; Keras 3's and optax's momentum
    kernel only keeps a buffer more, with the same numbers at 0)."""
    args, kwargs, _ = _split_arrays(cls, name, args, kwargs, at_zero=key)
    args, kwargs = plain_arguments(cls, name, args, kwargs)
    try:
        at_zero = cls(*args, engine="reference", **kwargs)
    except (TypeError, ValueError):  # 0 is not a valid value: nothing to choose
        return
    if at_zero.rule is opt.rule and at_zero.slot_names() == opt.slot_names():
        return
    if not _steps_alike(
        transformation(opt, per_step={key: 0.0}), transformation(at_zero)
    ):
        raise TypeError(
            f"gradstep.jax.{name} got a traced {key}, but its value chooses the update "
            f"rule (flavour={opt.flavour!r} steps with another one at {key}=0), which "
            "is fixed at construction; give it as a number (with "
            f"optax.inject_hyperparams: static_args=({key!r},))"
        )


def _steps_alike(*transformations: optax.GradientTransformation) -> bool:
    """Whether the transformations give the same updates (rel 1e-5) over three steps
    of a small problem with gradients near epsilon, computed now (at trace time)."""
    with jax.ensure_compile_time_eval():
        params = jnp.asarray([1.0, -2.0, 3.0, 0.5])
        grads = jnp.asarray([1e-4, 0.5, -2.0, 1e-6])
        runs = []
        for tx in transformations:
            state, p, updates = tx.init(params), params, []
            for _ in range(3):
                u, state = tx.update(grads, state, p)
                p, updates = p + u, [*updates, u]
            runs.append(jnp.stack(updates))
        return all(bool(jnp.allclose(runs[0], r, rtol=1e-5, atol=0)) for r in runs)


def _per_step(opt: Optimizer, name: str, given: dict[str, Any]) -> dict[str, Any]:
    """The arrays of ``given`` that are float hyperparameters of ``opt`` (a traced
    value that is not: ``TypeError``; a concrete one was just a number), a concrete
    one as ``opt`` resolved it (tf_keras's ``epsilon=0`` is its default)."""
    held = float_hyperparams(opt)
    for key, value in given.items():
        if key not in held and isinstance(value, jax.core.Tracer):
            raise TypeError(
                f"gradstep.jax.{name} got a traced {key}, which is not one of its "
                f"float hyperparameters ({', '.join(held)}); give it as a number"
            )
    return {
        k: v if isinstance(v, jax.core.Tracer) else held[k]
        for k, v in given.items()
        if k in held
    }


def plain_arguments(
    cls: type, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``args`` and ``kwargs`` with every concrete 0-d array (JAX's or NumPy's) as a
    Python number (``adam(jnp.asarray(1e-3))``, as optax takes it). Traced values are
    taken out before (``_split_arrays``); one left here raises ``TypeError``.
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
