"""``transformation(opt)``: a gradstep optimizer as an ``optax.GradientTransformation``.

The NumPy optimizer instance supplies everything static: the rule (chosen by its flags,
``amsgrad``/``nesterov``), the slot names, the clipping settings and whether decay is on
(Keras applies decay only when the constructor's ``decay`` was > 0). The float
hyperparameters go into the state (``KerasState.hyperparams``) and are read from it at
every step, so they can change without recompiling.

One step, for parameters ``p`` and gradients ``g`` (any pytree), traced by JAX:

1. ``lr = keras_decayed_lr(lr, decay, count, initial_decay)`` and the optimizer's own
   ``coefficients(t=count + 1, lr, scalars)`` and ``next_scalars``, computed with traced
   values in the hyperparameters' dtype (float64 under ``jax_enable_x64``), as the NumPy
   engines compute them in Python floats;
2. clipping: one global norm over every leaf (``clipnorm``), then ``clipvalue``, with
   ``kernels.clip.clip_element``;
3. per leaf, the coefficients cast to the leaf's dtype and ``rule(p, g, *slots, c)``.
   When the rule's new parameter is ``p + d`` or ``p - d`` (every built-in rule but
   Nesterov's, read off its jaxpr: ``_ops.additive_form``) the update is the rule run at
   ``p = 0``, i.e. ``d`` or ``-d``, and ``optax.apply_updates`` gives the rule's result
   bit for bit; otherwise it is ``p_new - p`` (exact whenever ``p_new`` is within a
   factor 2 of ``p``). The update is multiplied by a 1 that XLA cannot fold (exact):
   where it is a slot itself (Keras's momentum: ``d = v``), ``p + d`` would otherwise
   be a one-operation fusion, which XLA:CPU runs 5-7% slower than one with a multiply
   (benchmarks/RESULTS.md, section 4).
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import optax

from ..optimizers import Optimizer
from ..optimizers._base import keras_decayed_lr
from ..optimizers._registry import registered_classes
from ._checks import check_grads, check_slot_shapes, check_state, float_leaves
from ._ops import (
    additive_form,
    jax_clip_element,
    jax_function,
    jax_tensor_norm_factor,
    opaque_one,
)
from ._state import PER_STEP, STATIC_HYPERPARAMS, TRACED, KerasState

__all__ = [
    "transformation",
    "registered_name",
    "float_hyperparams",
    "state_tag",
    "check_keywords",
]


def registered_name(cls: type) -> str:
    """The name ``cls`` is registered under (its class name, lower-cased, if none)."""
    for name, registered in registered_classes().items():
        if registered is cls:
            return name
    return cls.__name__.lower()


def float_hyperparams(opt: Optimizer) -> dict[str, float]:
    """The hyperparameters of ``opt`` that live in the state: its numeric config keys
    (flags such as ``amsgrad`` choose the rule and stay static)."""
    values = {}
    for key in opt.config_keys:
        value = getattr(opt, key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            values[key] = float(value)
    return values


def state_tag(opt: Optimizer, static_hyperparams: bool = False) -> tuple[Any, ...]:
    """The static identity of ``opt``'s states: registered name and full config, and
    whether the hyperparameters are constants (then the state holds none)."""
    tag = (registered_name(type(opt)), tuple(opt.get_config().items()))
    return (*tag, STATIC_HYPERPARAMS) if static_hyperparams else tag


def _static_attributes(opt: Optimizer, taken: Mapping[str, Any]) -> dict[str, Any]:
    """What the step functions read off ``self`` besides hyperparameters and flags: the
    flavour and its ``variant`` (``Optimizer.next_scalars``, the default of an
    optimizer without a flavours table, asks for it), for the traced stand-in."""
    statics = {"flavour": opt.flavour, "variant": opt.variant}
    return {k: v for k, v in statics.items() if k not in taken}


def _default_float() -> Any:
    return jnp.result_type(float)


def transformation(
    opt: Optimizer,
    static_hyperparams: bool = False,
    per_step: Mapping[str, Any] | None = None,
) -> optax.GradientTransformation:
    """The optax transformation computing what ``opt`` computes (its configuration as it
    is now; its weights are not read: see ``from_optimizer``). ``static_hyperparams``:
    the float hyperparameters are constants of the compiled step, as in a plain optax
    transformation, instead of state (``state.hyperparams`` is empty).

    ``per_step``: float hyperparameters given as 0-d JAX arrays, traced or not (the
    constructor called at every step by ``optax.inject_hyperparams``, under
    ``jax.jit`` or not), used instead of ``opt``'s values (placeholders where traced)
    and of the state's: ``init`` puts them in the state, ``update`` steps with them and
    writes them into the new state. The state's tag names them (``PER_STEP``; a traced
    value is ``TRACED`` in the config) and ``update`` accepts a state whatever values
    it holds for them; ``set_hyperparams`` refuses them (they would be overwritten)."""
    cls = type(opt)
    owner = f"gradstep.jax.{registered_name(cls)}"
    per_step = dict(per_step or {})
    tag = _per_step_tag(state_tag(opt, static_hyperparams), per_step)
    raw_rule = opt.rule
    rule = jax_function(raw_rule)
    coefficients_fn, next_scalars_fn = opt.step_functions()
    coefficients = jax_function(coefficients_fn)
    next_scalars = jax_function(next_scalars_fn)
    slot_names = tuple(opt.slot_names())
    slot_starts = opt.slot_starts()
    scalar_state = dict(opt.scalar_state)
    hyper_defaults = float_hyperparams(opt)
    flags = {
        key: getattr(opt, key) for key in opt.config_keys if key not in hyper_defaults
    }
    flags.update(opt.fixed_hyperparameters())
    flags.update(_static_attributes(opt, flags))
    initial_decay = float(opt.initial_decay)
    clipping = opt.clipping
    preclipping = opt.preclipping

    fields = {
        "slots": slot_names,
        "scalars": tuple(scalar_state),
        "hyperparams": () if static_hyperparams else tuple(hyper_defaults),
    }

    def init(params: Any) -> KerasState:
        leaves, treedef = float_leaves("params", params, abstract=True)
        dtype = _default_float()
        slots = {
            name: jax.tree_util.tree_unflatten(
                treedef, [jnp.full_like(p, start) for p in leaves]
            )
            for name, start in zip(slot_names, slot_starts)
        }
        place = _replicated_like(leaves)
        start = {**hyper_defaults, **per_step}
        return KerasState(
            count=place(jnp.zeros([], jnp.int32)),
            slots=slots,
            scalars={k: place(jnp.asarray(v, dtype)) for k, v in scalar_state.items()},
            hyperparams={}
            if static_hyperparams
            else {k: place(jnp.asarray(v, dtype)) for k, v in start.items()},
            tag=tag,
        )

    def update(
        updates: Any, state: KerasState, params: Any = None, **extra_args: Any
    ) -> tuple[Any, KerasState]:
        del extra_args  # as optax's optimizers: what other transformations need
        if params is None:
            raise ValueError(
                f"{owner}.update needs the parameters: call tx.update(grads, state, "
                "params) (the Keras rules compute the new parameters)"
            )
        g_leaves, p_leaves, treedef = check_grads(updates, params)
        check_state(state, tag, owner, treedef, fields, ignore=tuple(per_step))
        check_slot_shapes(state, p_leaves, params)
        hyper = state.hyperparams
        if static_hyperparams:  # constants: folded into the compiled step
            hyper = {
                k: jnp.asarray(v, _default_float()) for k, v in hyper_defaults.items()
            }
        if per_step:  # the values of this step, in the dtype the state holds
            hyper = dict(hyper)
            hyper.update(
                {
                    k: jnp.asarray(v, jnp.result_type(hyper[k]))
                    for k, v in per_step.items()
                }
            )
        dtype = jnp.result_type(*hyper.values()) if hyper else _default_float()
        iterations = state.count.astype(dtype)
        t = iterations + 1
        stand_in = types.SimpleNamespace(**hyper, **flags, initial_decay=initial_decay)
        lr = keras_decayed_lr(
            hyper["lr"], hyper.get("decay", 0.0), iterations, initial_decay
        )
        c = coefficients(stand_in, t, lr, state.scalars)
        after = next_scalars(stand_in, t, state.scalars)
        scalars = {
            k: jnp.asarray(after[k], jnp.asarray(v).dtype)
            for k, v in state.scalars.items()
        }
        g_leaves = _clip(g_leaves, dtype)
        slot_leaves = [jax.tree_util.tree_leaves(state.slots[n]) for n in slot_names]
        form = additive_form(raw_rule, type(c), len(slot_names))
        new_updates, new_slots = [], [[] for _ in slot_names]
        ones: dict[Any, Any] = {}
        for i, (p, g) in enumerate(zip(p_leaves, g_leaves)):
            leaf_dtype = jnp.result_type(p)
            c_leaf = type(c)(*(jnp.asarray(x, leaf_dtype) for x in c))
            slots_in = (s[i] for s in slot_leaves)
            if form is None:
                out = rule(p, g.astype(leaf_dtype), *slots_in, c_leaf)
                update = out[0] - p
            else:  # p ± d: the rule at p = 0 is the update itself, exactly
                zero = jnp.zeros((), leaf_dtype)
                out = rule(zero, g.astype(leaf_dtype), *slots_in, c_leaf)
                update = jnp.broadcast_to(out[0], jnp.shape(p))
            if leaf_dtype not in ones:
                ones[leaf_dtype] = opaque_one(leaf_dtype)
            new_updates.append(update.astype(leaf_dtype) * ones[leaf_dtype])
            for k, value in enumerate(out[1:]):
                new_slots[k].append(jnp.asarray(value, leaf_dtype))
        unflatten = jax.tree_util.tree_unflatten
        new_state = state.replace(
            count=state.count + 1,
            slots={n: unflatten(treedef, s) for n, s in zip(slot_names, new_slots)},
            scalars=scalars,
        )
        if per_step and not static_hyperparams:
            new_state = new_state.replace(hyperparams=hyper)
        return unflatten(treedef, new_updates), new_state

    def _norm(g: Any, dtype: Any) -> Any:
        acc = jnp.promote_types(jnp.result_type(g), dtype)
        return jnp.sum(jnp.square(g.astype(acc)))

    def _clip(grads: list[Any], dtype: Any) -> list[Any]:
        if preclipping is not None:
            grads = preclipping.apply(
                grads,
                lambda g: jnp.sqrt(_norm(g, dtype)).astype(jnp.result_type(g)),
                lambda g, v: jax_clip_element(
                    g, jnp.asarray(1.0, jnp.result_type(g)), v
                ),
                jax_tensor_norm_factor,
            )
        if not clipping.clips:
            return grads
        scale: Any = 1.0
        if clipping.norm > 0:
            total: Any = 0.0
            for g in grads:
                total = total + _norm(g, dtype)
            scale = clipping.traced_scale(jnp.sqrt(total), jnp.where)
        value = clipping.value
        return [
            jax_clip_element(
                g,
                jnp.asarray(scale, jnp.result_type(g)),
                jnp.asarray(value, jnp.result_type(g)),
            )
            for g in grads
        ]

    return optax.GradientTransformationExtraArgs(init, update)


def _per_step_tag(tag: tuple[Any, ...], per_step: Mapping[str, Any]) -> tuple[Any, ...]:
    """``tag`` marked with the names of the per-step hyperparameters, ``TRACED`` as the
    value of every traced one."""
    if not per_step:
        return tag
    name, config, *marks = tag
    traced = {k for k, v in per_step.items() if isinstance(v, jax.core.Tracer)}
    config = tuple((k, TRACED if k in traced else v) for k, v in config)
    return (name, config, *marks, (PER_STEP, tuple(sorted(per_step))))


def _replicated_like(leaves: list[Any]) -> Any:
    """A function placing a 0-d leaf of the state (counter, host scalar,
    hyperparameter) replicated over the mesh of the first parameter sharded with a
    ``NamedSharding``, as a jitted step returns it; the identity if there is none (or
    under tracing). Otherwise the state ``init`` makes sits on one device and the
    first jitted step's output state does not, so the step compiles twice, and the
    init state's shardings cannot serve as ``in_shardings``."""
    for p in leaves:
        if isinstance(p, jax.core.Tracer) or not isinstance(p, jax.Array):
            continue
        sharding = p.sharding
        if isinstance(sharding, jax.sharding.NamedSharding) and sharding.mesh.size > 1:
            target = jax.sharding.NamedSharding(
                sharding.mesh, jax.sharding.PartitionSpec()
            )
            return lambda x: jax.device_put(x, target)
    return lambda x: x


def check_keywords(cls: type, kwargs: Mapping[str, Any]) -> None:
    """Unknown keywords raise ``TypeError`` naming the first and listing the accepted."""
    import inspect

    own = [
        name
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if name != "self" and p.kind is p.POSITIONAL_OR_KEYWORD
    ]
    accepted = [
        *own,
        "learning_rate",
        "clipnorm",
        "clipvalue",
        "global_clipnorm",
        "flavour",
        "static_hyperparams",
    ]
    unknown = [k for k in kwargs if k not in accepted]
    if unknown:
        raise TypeError(
            f"Unexpected keyword argument passed to gradstep.jax."
            f"{registered_name(cls)}: {unknown[0]}. It accepts {', '.join(accepted)}"
        )
