"""What optax accepts and gradstep.jax must too: empty pytrees from combinators, Python
float leaves, 0-d array hyperparameters, vmapped states, custom optimizers; each case
compared with optax (or gradstep's documentation) on the same input."""

from __future__ import annotations

import numpy as np
import pytest

from ._util import x64

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
jnp = jax.numpy
gjax = pytest.importorskip("gradstep.jax")

PARAMS = {"a": jnp.ones(3), "b": jnp.full(2, 2.0)}
GRADS = {"a": jnp.array([0.1, -0.2, 0.3]), "b": jnp.array([1.0, -1.0])}


def _float64(tree):
    return jax.tree_util.tree_map(lambda x: jnp.asarray(x, jnp.float64), tree)


def _close(x, y, rtol=1e-12):
    xs, ys = jax.tree_util.tree_leaves(x), jax.tree_util.tree_leaves(y)
    assert jax.tree_util.tree_structure(x) == jax.tree_util.tree_structure(y)
    for a, b in zip(xs, ys):
        assert jnp.result_type(a) == jnp.result_type(b)
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol)


def _masked_all_false(inner):
    return optax.masked(inner, {"a": False, "b": False})


def _unused_label(inner):
    return optax.multi_transform(
        {"x": inner, "y": optax.sgd(0.1), "unused": inner}, {"a": "x", "b": "y"}
    )


@pytest.mark.parametrize("combinator", [_masked_all_false, _unused_label])
def test_combinators_giving_the_inner_transformation_no_leaves(combinator):
    """optax.masked with an all-False mask and optax.multi_transform with a label no
    parameter has hand the inner transformation an empty pytree: optax's own
    transformations accept it (a no-op step), so must gradstep.jax's."""
    ours = combinator(gjax.adam(1e-2, flavour="optax"))
    theirs = combinator(optax.adam(1e-2))
    with x64():
        params, grads = _float64(PARAMS), _float64(GRADS)
        s_ours, s_theirs = ours.init(params), theirs.init(params)
        for _ in range(2):
            u_ours, s_ours = jax.jit(ours.update)(grads, s_ours, params)
            u_theirs, s_theirs = jax.jit(theirs.update)(grads, s_theirs, params)
            _close(u_ours, u_theirs)


@pytest.mark.parametrize("tree", [{}, [], (), {"a": None, "b": []}])
def test_empty_pytree_is_a_no_op_step_as_in_optax(tree):
    tx = gjax.nadam(1e-2, clipnorm=1.0)
    state = tx.init(tree)
    updates, state = jax.jit(tx.update)(tree, state, tree)
    want, _ = optax.nadam(1e-2).update(tree, optax.nadam(1e-2).init(tree), tree)
    assert jax.tree_util.tree_structure(updates) == jax.tree_util.tree_structure(want)
    assert int(state.count) == 1


@pytest.mark.parametrize("clipnorm", [None, 1.0])
def test_python_float_leaves_as_in_optax(clipnorm):
    """A Python float is a float leaf (``float_leaves`` accepts it, optax steps it);
    outside ``jax.jit`` the update crashed with ``'float' object has no attribute
    'astype'``."""
    ours = gjax.adam(1e-2, clipnorm=clipnorm, flavour="optax")
    theirs = optax.adam(1e-2)
    if clipnorm:
        theirs = optax.chain(optax.clip_by_global_norm(clipnorm), theirs)
    with x64():
        params, grads = [1.0, jnp.ones(2)], [0.5, jnp.full(2, 0.5)]
        u_ours, _ = ours.update(grads, ours.init(params), params)
        # optax.clip_by_global_norm itself needs arrays
        params, grads = _float64(params), _float64(grads)
        u_theirs, _ = theirs.update(grads, theirs.init(params), params)
        _close(u_ours, u_theirs)


def test_a_concrete_jax_scalar_hyperparameter_as_in_optax():
    """``optax.adam(jnp.asarray(0.01))`` works; gradstep.jax refused it with "lr must be
    a finite number >= 0, got Array(0.01, ...)"."""
    with x64():
        lr, b1 = jnp.asarray(0.01), jnp.asarray(0.8)
        ours = gjax.adam(lr, beta_1=b1, flavour="optax")
        theirs = optax.adam(lr, b1=b1)
        params, grads = _float64(PARAMS), _float64(GRADS)
        s_ours, s_theirs = ours.init(params), theirs.init(params)
        for _ in range(3):
            u_ours, s_ours = ours.update(grads, s_ours, params)
            u_theirs, s_theirs = theirs.update(grads, s_theirs, params)
            _close(u_ours, u_theirs)
        # arrays are inputs of every step (as optax.inject_hyperparams gives them):
        # the tag names them, the config holds their values
        from gradstep.jax._state import PER_STEP

        plain = gjax.adam(0.01, beta_1=0.8, flavour="optax").init(PARAMS).tag
        assert s_ours.tag == (*plain, (PER_STEP, ("beta_1", "lr")))
    numpy_lr = gjax.sgd(np.array(0.25)).init(PARAMS).hyperparams["lr"]
    assert float(numpy_lr) == 0.25


def test_a_traced_hyperparameter_is_used_a_traced_flag_is_refused():
    """``optax.inject_hyperparams(gradstep.jax.adam)`` rebuilds the transformation with
    traced values inside a jitted update: they are the step's hyperparameters (see
    test_optax_suite.py). What only construction reads (clipping) cannot be traced:
    a clear error naming it."""
    tx = optax.inject_hyperparams(gjax.adam)(lr=0.01)
    state = tx.init(PARAMS)
    jax.jit(tx.update)(GRADS, state, PARAMS)
    state = jax.jit(lambda lr: gjax.sgd(lr).init(PARAMS))(0.1)
    assert float(state.hyperparams["lr"]) == pytest.approx(0.1)
    with pytest.raises(TypeError, match="traced clipvalue"):
        jax.jit(lambda v: gjax.sgd(0.1, clipvalue=v).init(PARAMS))(0.1)


def _batched():
    tx = gjax.adam(1e-2)
    params = {"a": jnp.ones((4, 3))}
    return tx, params, jax.vmap(tx.init)(params)


def test_set_hyperparams_keeps_the_shape_of_a_vmapped_state():
    """A state of ``jax.vmap(tx.init)`` holds one lr per problem; ``set_hyperparams``
    made it 0-d, so ``jax.vmap(tx.update)`` refused it and a jitted step recompiled
    (the documented promise is no recompilation)."""
    tx, params, state = _batched()
    traces = []

    @jax.jit
    def step(state):
        traces.append(1)
        return jax.vmap(tx.update)(params, state, params)

    step(state)
    new = gjax.set_hyperparams(state, lr=0.5)
    assert new.hyperparams["lr"].shape == state.hyperparams["lr"].shape
    updates, _ = step(new)
    assert len(traces) == 1
    single = gjax.adam(0.5)
    want, _ = single.update(
        {"a": params["a"][0]}, single.init({"a": params["a"][0]}), {"a": params["a"][0]}
    )
    for row in updates["a"]:
        np.testing.assert_array_equal(np.asarray(row), np.asarray(want["a"]))


def test_set_hyperparams_per_problem_values_are_validated():
    _, _, state = _batched()
    lrs = jnp.array([0.1, 0.2, 0.3, 0.4])
    new = gjax.set_hyperparams(state, lr=lrs)
    np.testing.assert_array_equal(np.asarray(new.hyperparams["lr"]), np.asarray(lrs))
    with pytest.raises(ValueError, match="lr must be"):
        gjax.set_hyperparams(state, lr=jnp.array([0.1, -0.2, 0.3, 0.4]))


def test_from_optimizer_state_has_the_dtypes_of_params():
    """A NumPy optimizer stepped in float64 continued on float32 params: the state's
    slots stayed float64, unlike ``tx.init(params)``, so the first jitted step changed
    the state's dtypes (a recompile; a ``lax.scan`` carry refused it)."""
    from gradstep import optimizers

    opt = optimizers.Adam(lr=0.01)
    weights = [np.ones((2, 3)), np.full(3, 2.0)]
    opt.apply_gradients(zip([np.full((2, 3), 0.5), np.full(3, -0.5)], weights))
    with x64():
        params = {"a": jnp.ones((2, 3), jnp.float32), "b": jnp.ones(3, jnp.float32)}
        tx, state = gjax.from_optimizer(opt, params)
        dtypes = [jnp.result_type(x) for x in jax.tree_util.tree_leaves(state)]
        want = [jnp.result_type(x) for x in jax.tree_util.tree_leaves(tx.init(params))]
        assert dtypes == want

        def body(carry, _):
            p, s = carry
            u, s = tx.update(p, s, p)
            return (optax.apply_updates(p, u), s), None

        jax.lax.scan(body, (params, state), None, length=2)


def _heavy_ball_class():
    """README's "Writing an optimizer" example (examples/custom_optimizer.py), not
    registered here so that the registry of the other tests stays as it is."""
    from typing import NamedTuple

    from gradstep.optimizers import Hyperparameter, Optimizer

    class Coefficients(NamedTuple):
        lr: float
        momentum: float

    def heavy_ball_rule(p, g, b, c):
        b = c.momentum * b + g
        return p - c.lr * b, b

    class HeavyBall(Optimizer):
        config_keys = ("lr", "momentum", "decay")
        momentum = Hyperparameter(low=0.0)
        rule = staticmethod(heavy_ball_rule)

        def __init__(self, lr=0.01, momentum=0.9, decay=0.0, **kwargs):
            super().__init__(lr=lr, decay=decay, **kwargs)
            self.momentum = momentum

        def slot_names(self):
            return ("b",)

        def coefficients(self, t, lr, scalars):
            return Coefficients(lr=lr, momentum=self.momentum)

    return HeavyBall


def test_an_optimizer_without_a_flavours_table_runs_in_jax():
    """README: every registered optimizer gets a gradstep.jax transformation. One
    written as the README shows (no flavours table, the default ``next_scalars``)
    crashed in ``update``: ``'types.SimpleNamespace' object has no attribute
    'variant'``. Its equations are optax.sgd's with momentum."""
    tx = gjax.transformation(_heavy_ball_class()(lr=0.1, momentum=0.9))
    theirs = optax.sgd(0.1, momentum=0.9)
    with x64():
        params, grads = _float64(PARAMS), _float64(GRADS)
        s_ours, s_theirs = tx.init(params), theirs.init(params)
        p_ours, p_theirs = params, params
        for _ in range(3):
            u, s_ours = jax.jit(tx.update)(grads, s_ours, p_ours)
            p_ours = optax.apply_updates(p_ours, u)
            u, s_theirs = theirs.update(grads, s_theirs, p_theirs)
            p_theirs = optax.apply_updates(p_theirs, u)
        _close(p_ours, p_theirs)


def test_set_hyperparams_refuses_a_non_number_naming_it():
    """``set_hyperparams(state, epsilon=None)`` raised ``float() argument must be ...``
    naming nothing; the NumPy optimizer's ``opt.epsilon = None`` names epsilon."""
    state = gjax.adam(1e-2).init(PARAMS)
    with pytest.raises(ValueError, match="epsilon must be"):
        gjax.set_hyperparams(state, epsilon=None)


@pytest.mark.parametrize("field", ["slots", "hyperparams"])
def test_a_state_missing_a_slot_or_hyperparameter_is_named(field):
    """A state with the right tag but a slot or hyperparameter dropped (edited by hand,
    restored from another layout) crashed inside the step (``KeyError: 'v'``,
    ``'types.SimpleNamespace' object has no attribute 'beta_2'``)."""
    tx = gjax.adam(1e-2)
    state = tx.init(PARAMS)
    kept = dict(list(getattr(state, field).items())[:1])
    with pytest.raises(ValueError, match=f"{field} hold"):
        jax.jit(tx.update)(GRADS, state.replace(**{field: kept}), PARAMS)


@pytest.mark.parametrize("name", ["sgd", "adam", "nadam"])
def test_the_signature_lists_every_accepted_keyword(name):
    """``gradstep.jax.adam(learning_rate=0.1)`` works (Keras's alias) but the
    signature left it out, so ``inspect.signature(...).bind`` refused the call."""
    import inspect

    factory = getattr(gjax, name)
    bound = inspect.signature(factory).bind(learning_rate=0.1, clipnorm=1.0)
    tx = factory(*bound.args, **bound.kwargs)
    assert float(tx.init(PARAMS).hyperparams["lr"]) == pytest.approx(0.1)
