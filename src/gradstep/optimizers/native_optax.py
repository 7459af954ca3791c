"""``OptaxOptimizer``: an optax transformation training NumPy weights.

As ``TorchOptimizer`` wraps a torch.optim optimizer, this wraps any
``optax.GradientTransformation`` (``optax.adamw(1e-3)``, a ``gradstep.jax`` one, a chain)
so it can be passed wherever a gradstep optimizer goes (``model.compile(optimizer=...)``).
Each step copies the NumPy parameters and gradients to JAX, runs one jitted
``update`` + ``apply_updates`` and writes the new parameters back into the NumPy arrays.
jax and optax are imported when an ``OptaxOptimizer`` is constructed, never by
``import gradstep``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend
from ._hyper import check_number
from ._native import NativeOptimizer, check_weight_count, restored_iterations

__all__ = ["OptaxOptimizer"]

_LR_NAMES = ("lr", "learning_rate")


class OptaxOptimizer(NativeOptimizer):
    """An ``optax.GradientTransformation`` behind gradstep's optimizer interface.

    Args:
        transformation: any ``optax.GradientTransformation`` (or an ``optax.MultiSteps``,
            used as its ``gradient_transformation()``). Its state is created at the
            first ``apply_gradients`` (or ``build``) for the given arrays.
        clipnorm, clipvalue: Keras's gradient clipping (global norm, then values), done on
            the NumPy gradients before the optax step. None or 0: off.

    ``iterations`` counts the ``apply_gradients`` calls. ``lr`` (read and set, so LR
    callbacks work) exists where the transformation keeps an injected learning rate in
    its state: ``optax.inject_hyperparams(optax.adamw)(learning_rate=1e-3)`` or any
    ``gradstep.jax`` transformation; elsewhere it raises ``AttributeError``. Setting it
    never recompiles the step; where the injected learning rate is a schedule it is
    read-only (setting raises ``AttributeError``: optax would overwrite it).
    ``get_weights``/``set_weights`` hold ``iterations`` and then the state's leaves in
    pytree order (after one step or ``build``); ``rebind()`` forgets the bound arrays
    and the state (for a model compiled again).
    ``get_config`` raises ``NotImplementedError``: a transformation is a pair of
    functions, which no config can rebuild. float64 parameters need
    ``jax.config.update("jax_enable_x64", True)``; JAX would silently make them float32.

    Example:
        >>> import numpy as np, optax
        >>> from gradstep.optimizers import OptaxOptimizer
        >>> w = np.array([1.0, -1.0], dtype=np.float32)
        >>> opt = OptaxOptimizer(optax.sgd(0.1))
        >>> opt.apply_gradients([(np.array([0.5, -2.0], dtype=np.float32), w)])
        >>> w
        array([ 0.95, -0.8 ], dtype=float32)
    """

    def __init__(
        self,
        transformation: Any,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
    ) -> None:
        import optax

        transformation = _as_transformation(transformation)
        if not isinstance(transformation, optax.GradientTransformation):
            raise TypeError(
                "OptaxOptimizer expects an optax.GradientTransformation (e.g. "
                f"optax.adamw(1e-3)), got {type(transformation).__name__}"
            )
        super().__init__(clipnorm, clipvalue)
        self.transformation = transformation
        self.state: Any = None
        self._pending_lr: float | None = None
        self._probe: Any = None
        self._step: Any = None

    # ---- the learning rate ---------------------------------------------------------
    @property
    def lr(self) -> float:
        """The injected learning rate in the transformation's state."""
        if self._pending_lr is not None:
            value = self._pending_lr
        else:
            holder, key = self._lr_holder(self._state_or_probe())
            value = float(holder[key])
        backend.handed_out(self, "lr", value)  # for K.set_value(opt.lr, v)
        return value

    @lr.setter
    def lr(self, value: float) -> None:
        value = check_number("lr", value)
        state = self._state_or_probe()
        self._lr_holder(state)  # raises when there is none
        _check_not_scheduled(state)
        if self.state is None:
            self._pending_lr = value
            return
        self._set_lr(value)

    def _set_lr(self, value: float) -> None:
        import jax.numpy as jnp

        for holder in _hyperparam_dicts(self.state):
            for key in _LR_NAMES:
                if key in holder:
                    old = holder[key]
                    holder[key] = jnp.asarray(value, dtype=jnp.result_type(old))

    def _state_or_probe(self) -> Any:
        if self.state is not None:
            return self.state
        if self._probe is None:
            import jax.numpy as jnp

            probe = [jnp.zeros(1, _probe_dtype())]
            try:
                self._probe = self.transformation.init(probe)
            except Exception:  # noqa: BLE001 - a transformation for other pytrees
                self._probe = ()
        return self._probe

    def _lr_holder(self, state: Any) -> tuple[dict[str, Any], str]:
        for holder in _hyperparam_dicts(state):
            for key in _LR_NAMES:
                if key in holder:
                    return holder, key
        raise AttributeError(
            "this optax transformation has no injected learning rate in its state; "
            "build it with optax.inject_hyperparams(...)(learning_rate=...) or use a "
            "gradstep.jax transformation to read and set lr"
        )

    # ---- the step ------------------------------------------------------------------
    def _bind(self, params: list[np.ndarray]) -> None:
        import jax
        import jax.numpy as jnp
        import optax

        if any(p.dtype == np.float64 for p in params) and not jax.config.read(
            "jax_enable_x64"
        ):
            raise TypeError(
                "OptaxOptimizer got float64 parameters but JAX computes in float32 "
                'unless jax.config.update("jax_enable_x64", True) is set first; '
                "enable it or use float32 weights"
            )
        self.state = self.transformation.init([jnp.asarray(p) for p in params])
        tx = self.transformation

        def step(p: Any, state: Any, g: Any) -> tuple[Any, Any]:
            updates, state = tx.update(g, state, p)
            return optax.apply_updates(p, updates), state

        self._step = jax.jit(step)
        if self._pending_lr is not None:
            self._set_lr(self._pending_lr)
            self._pending_lr = None

    def _unbind(self) -> None:
        """Drop the state made for the bound arrays; an injected, unscheduled ``lr``
        as set carries on into the next state."""
        try:
            _check_not_scheduled(self.state)
            holder, key = self._lr_holder(self.state)
            self._pending_lr = float(holder[key])
        except AttributeError:  # no injected learning rate, or a scheduled one
            pass
        self.state, self._step = None, None

    def _framework_step(
        self, params: list[np.ndarray], grads: list[np.ndarray]
    ) -> None:
        import jax.numpy as jnp

        new_params, self.state = self._step(
            [jnp.asarray(p) for p in params],
            self.state,
            [jnp.asarray(g) for g in grads],
        )
        for p, new in zip(params, new_params):
            np.copyto(p, np.asarray(new), casting="same_kind")

    # ---- configs and weights -------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Always ``NotImplementedError``: a transformation is functions, not a config."""
        raise NotImplementedError(
            "cannot serialize OptaxOptimizer: an optax GradientTransformation is a pair "
            "of functions that no config can rebuild; save the model with "
            "include_optimizer=False and keep the state with get_weights()"
        )

    def get_weights(self) -> list[np.ndarray]:
        """``iterations`` (0-d int64), then the state's leaves in pytree order, as NumPy
        copies; empty before the first step or ``build``."""
        import jax

        if self.state is None:
            return []
        leaves = jax.tree_util.tree_leaves(self.state)
        return [np.array(self.iterations, dtype=np.int64)] + [
            np.array(leaf) for leaf in leaves
        ]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Restore ``get_weights()``'s output (after one step or ``build``); every
        length, shape and dtype kind is checked before anything is assigned."""
        import jax
        import jax.numpy as jnp

        if self.state is None:
            raise ValueError(
                "set_weights needs the transformation's state: call build(params) or "
                "apply_gradients once first"
            )
        leaves, treedef = jax.tree_util.tree_flatten(self.state)
        weights = check_weight_count(list(weights), len(leaves) + 1)
        iterations = restored_iterations(weights[0])
        new_leaves = []
        for i, (old, new) in enumerate(zip(leaves, weights[1:])):
            old_dtype = np.dtype(jnp.result_type(old))
            if tuple(np.shape(old)) != new.shape or old_dtype.kind != new.dtype.kind:
                raise ValueError(
                    f"optimizer weight {i + 1} has shape {new.shape} and dtype "
                    f"{new.dtype}; expected {tuple(np.shape(old))} and {old_dtype}"
                )
            new_leaves.append(jnp.asarray(new, dtype=old_dtype))
        self.iterations = iterations
        self.state = jax.tree_util.tree_unflatten(treedef, new_leaves)

    def __repr__(self) -> str:
        return f"OptaxOptimizer({self.transformation!r})"


def _probe_dtype() -> Any:
    """The dtype of the arrays that a state made before the weights are bound is made
    for: floatx (what a model's weights usually are), float32 where JAX computes in
    float32 only. optax.inject_hyperparams gives its hyperparameters the parameters'
    dtype, so a float32 probe would round a float64 model's lr before its first step."""
    import jax
    import jax.numpy as jnp

    if backend.floatx() == "float64" and jax.config.read("jax_enable_x64"):
        return jnp.float64
    return jnp.float32


def _as_transformation(transformation: Any) -> Any:
    """``optax.MultiSteps`` (an object with ``init``/``update`` methods, not a
    ``GradientTransformation``) as its ``gradient_transformation()``; anything else as
    it is."""
    import optax

    if isinstance(transformation, optax.MultiSteps):
        return transformation.gradient_transformation()
    return transformation


def _check_not_scheduled(state: Any) -> None:
    """Raise ``AttributeError`` when the learning rate in ``state`` is a schedule
    (``optax.inject_hyperparams`` recomputes it from the step count at every step, so
    a value set would be silently overwritten)."""
    import jax

    def holds(x: Any) -> bool:
        return isinstance(getattr(x, "hyperparams_states", None), dict)

    for node in jax.tree_util.tree_leaves(state, is_leaf=holds):
        if holds(node) and any(k in node.hyperparams_states for k in _LR_NAMES):
            raise AttributeError(
                "lr is read-only here: the transformation's learning rate is a schedule "
                "(optax.inject_hyperparams recomputes it from the step count at every "
                "step, so a value set would be ignored); inject a constant learning "
                "rate to set lr, or change the schedule"
            )


def _hyperparam_dicts(state: Any) -> list[dict[str, Any]]:
    """The ``hyperparams`` dicts inside ``state`` (optax.inject_hyperparams's states
    and gradstep.jax's ``KerasState``), outermost first."""
    import jax

    def holds(x: Any) -> bool:
        return isinstance(getattr(x, "hyperparams", None), dict)

    nodes = jax.tree_util.tree_leaves(state, is_leaf=holds)
    return [node.hyperparams for node in nodes if holds(node)]
