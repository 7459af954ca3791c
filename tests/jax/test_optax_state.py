"""``gradstep.jax.from_optax_state``: a run started with optax's own transformation
continues with gradstep.jax's ``flavour="optax"`` one, and the steps after the switch
equal optax's own continuation (float64, under ``jax.jit``); bad input raises."""

from __future__ import annotations

import numpy as np
import pytest

from ._util import jitted_step, x64

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
jnp = jax.numpy
gjax = pytest.importorskip("gradstep.jax")

BEFORE, AFTER = 4, 5
CASES = [  # (gradstep.jax name, its config, optax's transformation of the same)
    ("adam", {"lr": 0.01}, lambda: optax.adam(0.01)),
    ("adam", {"lr": 0.01, "amsgrad": True}, lambda: optax.amsgrad(0.01)),
    ("adamax", {"lr": 0.01}, lambda: optax.adamax(0.01)),
    ("nadam", {"lr": 0.01}, lambda: optax.nadam(0.01)),
    ("rmsprop", {"lr": 0.01}, lambda: optax.rmsprop(0.01)),
    (
        "rmsprop",
        {"lr": 0.01, "momentum": 0.5},
        lambda: optax.rmsprop(0.01, momentum=0.5),
    ),
    (
        "rmsprop",
        {"lr": 0.01, "centered": True, "momentum": 0.5},
        lambda: optax.rmsprop(0.01, centered=True, momentum=0.5),
    ),
    ("adagrad", {"lr": 0.1}, lambda: optax.adagrad(0.1)),
    ("adadelta", {"lr": 1.0, "rho": 0.8}, lambda: optax.adadelta(1.0, rho=0.8)),
    ("sgd", {"lr": 0.05}, lambda: optax.sgd(0.05)),
    ("sgd", {"lr": 0.05, "momentum": 0.9}, lambda: optax.sgd(0.05, momentum=0.9)),
    (
        "sgd",
        {"lr": 0.05, "momentum": 0.9, "nesterov": True},
        lambda: optax.sgd(0.05, momentum=0.9, nesterov=True),
    ),
]
IDS = [f"{c[0]}-{'-'.join(f'{k}={v}' for k, v in c[1].items())}" for c in CASES]


def _problem():
    rng = np.random.default_rng(5)
    params = {
        "w": jnp.asarray(rng.normal(size=(3, 2))),
        "b": [jnp.asarray(rng.normal(size=4)), jnp.asarray(rng.normal(size=()))],
    }
    grads = [
        jax.tree_util.tree_map(lambda x: jnp.asarray(rng.normal(size=x.shape)), params)
        for _ in range(BEFORE + AFTER)
    ]
    return params, grads


def _run(tx, params, state, grads):
    step = jitted_step(tx)
    for g in grads:
        params, state = step(params, state, g)
    return params, state


def _assert_close(ours, theirs, what):
    for i, (a, b) in enumerate(
        zip(jax.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(theirs))
    ):
        np.testing.assert_allclose(
            np.asarray(a), np.asarray(b), rtol=1e-12, atol=0, err_msg=f"{what} {i}"
        )


@pytest.mark.parametrize("name, config, make", CASES, ids=IDS)
def test_optax_run_continues_in_gradstep(name, config, make):
    with x64():
        params, grads = _problem()
        theirs = make()
        params, state = _run(theirs, params, theirs.init(params), grads[:BEFORE])
        tx = getattr(gjax, name)(flavour="optax", **config)
        ours_state = gjax.from_optax_state(tx, state, params)
        if "count" in str(state):  # optax's adam family counts
            assert int(ours_state.count) == BEFORE
        ours, _ = _run(tx, params, ours_state, grads[BEFORE:])
        expected, _ = _run(theirs, params, state, grads[BEFORE:])
        _assert_close(ours, expected, "parameter leaf")


def test_inside_inject_hyperparams_and_a_chain():
    """The slots are found inside optax's wrappers; the counters all agree."""
    with x64():
        params, grads = _problem()
        theirs = optax.chain(
            optax.clip_by_global_norm(1.0),
            optax.inject_hyperparams(optax.adam)(learning_rate=0.01),
        )
        params, state = _run(theirs, params, theirs.init(params), grads[:BEFORE])
        adam = gjax.adam(lr=0.01, flavour="optax")
        tx = optax.chain(optax.clip_by_global_norm(1.0), adam)
        inner = gjax.from_optax_state(adam, state, params)
        ours_state = (state[0], inner)
        ours, _ = _run(tx, params, ours_state, grads[BEFORE:])
        expected, _ = _run(theirs, params, state, grads[BEFORE:])
        _assert_close(ours, expected, "parameter leaf")
        assert int(inner.count) == BEFORE


def test_count_given_where_optax_keeps_none():
    """optax.sgd counts nothing: ``count=`` sets the counter (decay reads it)."""
    with x64():
        params, _ = _problem()
        state = optax.sgd(0.1, momentum=0.9).init(params)
        tx = gjax.sgd(lr=0.1, momentum=0.9, flavour="optax")
        assert int(gjax.from_optax_state(tx, state, params, count=7).count) == 7
        assert int(gjax.from_optax_state(tx, state, params).count) == 0


def test_a_negated_trace_is_what_makes_rmsprop_momentum_equal():
    """optax's RMSprop trace holds updates (times -lr); copied without the sign flip
    the continuation would differ: the flip is what the equality rests on."""
    with x64():
        params, grads = _problem()
        theirs = optax.rmsprop(0.01, momentum=0.5)
        params, state = _run(theirs, params, theirs.init(params), grads[:BEFORE])
        tx = gjax.rmsprop(lr=0.01, momentum=0.5, flavour="optax")
        ours = gjax.from_optax_state(tx, state, params)
        trace = optax.tree.get(state, "trace")
        _assert_close(
            ours.slots["momentum"],
            jax.tree_util.tree_map(lambda t: -t, trace),
            "momentum leaf",
        )


def test_bad_input_raises():
    with x64():
        params, _ = _problem()
        adam_state = optax.adam(0.01).init(params)
        with pytest.raises(ValueError, match="flavour='keras22'.*flavour='optax'"):
            gjax.from_optax_state(gjax.adam(lr=0.01), adam_state, params)
        with pytest.raises(TypeError, match="expects a gradstep.jax transformation"):
            gjax.from_optax_state(optax.adam(0.01), adam_state, params)
        with pytest.raises(
            ValueError, match="has no 'sum_of_squares'.*ScaleByAdamState"
        ):
            gjax.from_optax_state(
                gjax.adagrad(lr=0.1, flavour="optax"), adam_state, params
            )
        other = {"w": params["w"], "b": params["b"][0]}
        with pytest.raises(ValueError, match="'mu' has the structure"):
            gjax.from_optax_state(
                gjax.adam(lr=0.01, flavour="optax"), optax.adam(0.1).init(other), params
            )
        wrong_shape = jax.tree_util.tree_map(lambda x: jnp.zeros((7,)), params)
        with pytest.raises(ValueError, match="'mu' leaf 0 has shape \\(7,\\)"):
            gjax.from_optax_state(
                gjax.adam(lr=0.01, flavour="optax"),
                optax.adam(0.1).init(wrong_shape),
                params,
            )
        twice = (adam_state, adam_state)
        with pytest.raises(ValueError, match="holds 'mu' .* more than once"):
            gjax.from_optax_state(gjax.adam(lr=0.01, flavour="optax"), twice, params)
        with pytest.raises(ValueError, match="counts in optax_state .* disagree"):
            gjax.from_optax_state(
                gjax.adam(lr=0.01, flavour="optax"), adam_state, params, count=3
            )


@pytest.mark.parametrize("name, config, make", CASES, ids=IDS)
def test_gradstep_run_continues_in_optax(name, config, make):
    """``to_optax_state``: the way back; optax's steps after it equal gradstep's."""
    with x64():
        params, grads = _problem()
        tx = getattr(gjax, name)(flavour="optax", **config)
        params, state = _run(tx, params, tx.init(params), grads[:BEFORE])
        theirs = make()
        optax_state = gjax.to_optax_state(state, theirs, params)
        for _, count in optax.tree_utils.tree_get_all_with_path(optax_state, "count"):
            assert int(count) == BEFORE
        expected, _ = _run(tx, params, state, grads[BEFORE:])
        continued, _ = _run(theirs, params, optax_state, grads[BEFORE:])
        _assert_close(continued, expected, "parameter leaf")
        if name == "sgd" and "momentum" not in config:
            return  # the moment optax keeps none of does not come back
        back = gjax.from_optax_state(tx, optax_state, params, count=BEFORE)
        for a, b in zip(
            jax.tree_util.tree_leaves(back), jax.tree_util.tree_leaves(state)
        ):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_back_into_inject_hyperparams():
    with x64():
        params, grads = _problem()
        tx = gjax.adam(lr=0.01, flavour="optax")
        params, state = _run(tx, params, tx.init(params), grads[:BEFORE])
        theirs = optax.inject_hyperparams(optax.adam)(learning_rate=0.01)
        optax_state = gjax.to_optax_state(state, theirs, params)
        assert int(optax_state.count) == BEFORE
        expected, _ = _run(tx, params, state, grads[BEFORE:])
        continued, _ = _run(theirs, params, optax_state, grads[BEFORE:])
        _assert_close(continued, expected, "parameter leaf")


def test_going_back_refuses_bad_input():
    with x64():
        params, _ = _problem()
        keras = gjax.adam(lr=0.01)
        with pytest.raises(ValueError, match="to_optax_state: .*flavour='keras22'"):
            gjax.to_optax_state(keras.init(params), optax.adam(0.01), params)
        with pytest.raises(TypeError, match="expects a gradstep.jax state"):
            gjax.to_optax_state(optax.adam(0.01).init(params), optax.adam(0.01), params)
        state = gjax.adam(lr=0.01, flavour="optax").init(params)
        with pytest.raises(ValueError, match="holds 'mu' .* 0 times"):
            gjax.to_optax_state(state, optax.adagrad(0.1), params)
        other = {"w": params["w"], "b": params["b"][0]}
        with pytest.raises(ValueError, match="the state's 'm' has the structure"):
            gjax.to_optax_state(state, optax.adam(0.01), other)


def test_parameters_named_like_optax_fields():
    """Only the named tuples' fields are optax's: parameters called ``mu`` and
    ``count`` are parameters."""
    with x64():
        rng = np.random.default_rng(2)
        params = {"mu": jnp.asarray(rng.normal(size=3)), "count": jnp.ones(2)}
        grads = [
            jax.tree_util.tree_map(
                lambda x: jnp.asarray(rng.normal(size=x.shape)), params
            )
            for _ in range(BEFORE + AFTER)
        ]
        theirs = optax.adam(0.01)
        params, state = _run(theirs, params, theirs.init(params), grads[:BEFORE])
        tx = gjax.adam(lr=0.01, flavour="optax")
        ours_state = gjax.from_optax_state(tx, state, params)
        ours, ours_state = _run(tx, params, ours_state, grads[BEFORE:])
        expected, state = _run(theirs, params, state, grads[BEFORE:])
        _assert_close(ours, expected, "parameter leaf")
        back = gjax.to_optax_state(ours_state, theirs, params)
        for a, b in zip(
            jax.tree_util.tree_leaves(back), jax.tree_util.tree_leaves(state)
        ):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12)
