"""Bad input raises a clear error when ``init``/``update`` are traced (under ``jax.jit``),
before any update is computed; each message names what is wrong and what is expected."""

from __future__ import annotations

import pytest

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
jnp = jax.numpy
gjax = pytest.importorskip("gradstep.jax")

PARAMS = {"w": jnp.ones((2, 3)), "b": jnp.zeros(3)}
GRADS = {"w": jnp.full((2, 3), 0.5), "b": jnp.full(3, 0.5)}


def _update(tx, grads, state, params):
    return jax.jit(tx.update)(grads, state, params)


def test_non_float_params_leaf():
    tx = gjax.adam()
    with pytest.raises(TypeError, match=r"params leaf \['n'\] has dtype int32"):
        tx.init({"n": jnp.arange(3), "w": jnp.ones(2)})
    state = tx.init(PARAMS)
    bad = dict(PARAMS, b=jnp.zeros(3, jnp.int32))
    with pytest.raises(TypeError, match=r"params leaf \['b'\].*floating-point"):
        _update(tx, GRADS, state, bad)


def test_non_array_leaf():
    with pytest.raises(TypeError, match=r"params leaf \['s'\] is a str"):
        gjax.sgd().init({"s": "weights"})


def test_non_float_grads_leaf():
    tx = gjax.sgd()
    state = tx.init(PARAMS)
    with pytest.raises(TypeError, match=r"grads leaf \['b'\] has dtype int32"):
        _update(tx, dict(GRADS, b=jnp.zeros(3, jnp.int32)), state, PARAMS)


def test_grads_structure_differs():
    tx = gjax.rmsprop()
    state = tx.init(PARAMS)
    with pytest.raises(ValueError, match="structure .* differs from the parameters'"):
        _update(tx, {"w": GRADS["w"]}, state, PARAMS)
    with pytest.raises(ValueError, match="structure"):
        _update(tx, [GRADS["b"], GRADS["w"]], state, PARAMS)


def test_grads_shape_differs():
    tx = gjax.adagrad()
    state = tx.init(PARAMS)
    with pytest.raises(ValueError, match=r"grads leaf \['w'\] has shape \(3, 2\)"):
        _update(tx, dict(GRADS, w=jnp.ones((3, 2))), state, PARAMS)


@pytest.mark.parametrize(
    "made_by",
    [
        lambda: gjax.sgd(),
        lambda: gjax.adam(amsgrad=True),
        lambda: gjax.adam(lr=0.01),
        lambda: gjax.adam(clipnorm=1.0),
    ],
    ids=["other optimizer", "other flag", "other lr", "other clipping"],
)
def test_state_of_another_optimizer_or_configuration(made_by):
    tx = gjax.adam()
    state = made_by().init(PARAMS)
    with pytest.raises(ValueError, match=r"another optimizer or configuration.*adam\("):
        _update(tx, GRADS, state, PARAMS)


def test_state_of_another_kind_or_params():
    tx = gjax.adam()
    with pytest.raises(TypeError, match="expected the KerasState"):
        _update(tx, GRADS, optax.adam(1e-3).init(PARAMS), PARAMS)
    other = tx.init({"w": jnp.ones((2, 3)), "b": jnp.zeros(4)})
    with pytest.raises(ValueError, match=r"slot 'm' leaf \['b'\] has shape \(4,\)"):
        _update(tx, GRADS, other, PARAMS)
    with pytest.raises(ValueError, match="slot 'm' has pytree structure"):
        _update(tx, GRADS, tx.init([PARAMS["w"], PARAMS["b"]]), PARAMS)


def test_update_without_params():
    tx = gjax.sgd()
    with pytest.raises(
        ValueError, match=r"needs the parameters: call tx.update\(grads"
    ):
        tx.update(GRADS, tx.init(PARAMS))


@pytest.mark.parametrize("name", ["adam", "nadam", "sgd"])
def test_unknown_keyword_is_named_with_the_accepted_ones(name):
    with pytest.raises(TypeError, match=r"gradstep.jax.\w+: lr_decay\. It accepts lr"):
        getattr(gjax, name)(lr_decay=0.1)
    with pytest.raises(TypeError, match="engine"):
        getattr(gjax, name)(engine="fused")


def test_invalid_values_and_keras_rules():
    with pytest.raises(ValueError, match="lr"):
        gjax.adam(lr=-1.0)
    with pytest.raises(ValueError, match="beta_1"):
        gjax.adam(beta_1=1.5)
    with pytest.raises(TypeError, match="decay"):
        gjax.nadam(decay=0.1)  # Nadam has no decay, as in Keras
    with pytest.raises(ValueError, match="lr and learning_rate"):
        gjax.sgd(lr=0.1, learning_rate=0.2)
    with pytest.raises(AttributeError, match="no attribute 'adamw'"):
        gjax.adamw  # noqa: B018


def test_get_and_from_optimizer_errors():
    with pytest.raises(ValueError):
        gjax.get("no_such_optimizer")
    with pytest.raises(TypeError, match="from_optimizer expects"):
        gjax.from_optimizer(optax.adam(1e-3))
