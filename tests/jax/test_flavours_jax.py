"""Flavours through gradstep.jax under ``jax.jit``: every golden trajectory of the real
frameworks (float64, rel <= 1e-10 at every step), and flavour="optax" against optax's own
transformations on random pytrees."""

from __future__ import annotations

import numpy as np
import pytest

from .._golden import case_id, flavour_files, load_case
from ._util import assert_golden_trajectory_jit, jitted_step, x64

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
jnp = jax.numpy
gjax = pytest.importorskip("gradstep.jax")

CASES = flavour_files()


@pytest.mark.parametrize("path", CASES, ids=[case_id(p) for p in CASES])
def test_flavour_trajectory_jit_float64(path):
    assert_golden_trajectory_jit(load_case(path))


SAME_AS_OPTAX = [
    ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True}, "sgd"),
    ("rmsprop", {"lr": 0.01, "rho": 0.8, "centered": True, "momentum": 0.5}, "rmsprop"),
    ("adagrad", {"lr": 0.1}, "adagrad"),
    ("adadelta", {"lr": 0.5, "rho": 0.8}, "adadelta"),
    ("adam", {"lr": 0.01, "beta_1": 0.8}, "adam"),
    ("adam", {"lr": 0.01, "amsgrad": True}, "amsgrad"),
    ("adamax", {"lr": 0.01}, "adamax"),
    ("nadam", {"lr": 0.01}, "nadam"),
]


def _optax_of(name, config):
    lr = config["lr"]
    kwargs = {}
    if "momentum" in config:
        kwargs["momentum"] = config["momentum"]
    if name == "sgd":
        return optax.sgd(lr, nesterov=config.get("nesterov", False), **kwargs)
    if name == "rmsprop":
        return optax.rmsprop(
            lr, decay=config["rho"], centered=config["centered"], **kwargs
        )
    if name == "adadelta":
        return optax.adadelta(lr, rho=config["rho"])
    if name == "adam":
        return optax.adam(lr, b1=config.get("beta_1", 0.9))
    return getattr(optax, name)(lr)


@pytest.mark.parametrize(
    "name,config,optax_name", SAME_AS_OPTAX, ids=[c[2] for c in SAME_AS_OPTAX]
)
def test_optax_flavour_equals_optax(name, config, optax_name):
    rng = np.random.default_rng(3)
    shapes = {"w": (4, 3), "b": (3,)}
    with x64():
        start = {k: jnp.asarray(rng.normal(size=s) + 2.0) for k, s in shapes.items()}
        ours = gjax.get({"class_name": name, "config": {**config, "flavour": "optax"}})
        theirs = _optax_of(optax_name, config)
        p_ours, p_theirs = start, start
        s_ours, s_theirs = ours.init(start), theirs.init(start)
        step_ours, step_theirs = jitted_step(ours), jitted_step(theirs)
        worst = 0.0
        for _ in range(20):
            g = {k: jnp.asarray(rng.normal(size=s)) for k, s in shapes.items()}
            p_ours, s_ours = step_ours(p_ours, s_ours, g)
            p_theirs, s_theirs = step_theirs(p_theirs, s_theirs, g)
            for k in shapes:
                a, b = np.asarray(p_ours[k]), np.asarray(p_theirs[k])
                worst = max(worst, float(np.max(np.abs(a - b) / np.abs(b))))
    assert worst <= 1e-12, worst


def test_optax_flavour_clipnorm_equals_a_chain_with_clip_by_global_norm():
    rng = np.random.default_rng(5)
    with x64():
        start = [jnp.asarray(rng.normal(size=(3, 2)) + 1.5)]
        ours = gjax.adam(lr=0.01, clipnorm=0.5, clipvalue=0.2, flavour="optax")
        theirs = optax.chain(
            optax.clip_by_global_norm(0.5), optax.clip(0.2), optax.adam(0.01)
        )
        p1, p2 = start, start
        s1, s2 = ours.init(start), theirs.init(start)
        for _ in range(10):
            g = [jnp.asarray(rng.normal(size=(3, 2)))]
            u1, s1 = ours.update(g, s1, p1)
            u2, s2 = theirs.update(g, s2, p2)
            p1, p2 = optax.apply_updates(p1, u1), optax.apply_updates(p2, u2)
        np.testing.assert_allclose(np.asarray(p1[0]), np.asarray(p2[0]), rtol=1e-12)


def test_a_state_of_another_flavour_is_refused():
    with x64():
        params = [jnp.ones(3)]
        state = gjax.adam(lr=0.01).init(params)
        tx = gjax.adam(lr=0.01, flavour="torch")
        with pytest.raises(ValueError, match="flavour"):
            tx.update([jnp.ones(3)], state, params)


@pytest.mark.parametrize("path", CASES[::6], ids=[case_id(p) for p in CASES[::6]])
def test_flavour_float32_follows_the_float64_trajectory(path):
    case = load_case(path)
    tx = gjax.get({"class_name": case["optimizer"], "config": case["config"]})
    params = [jnp.asarray(p, jnp.float32) for p in case["params"]]
    scale = max(float(np.max(np.abs(p))) for p in case["params"])
    state = tx.init(params)
    step = jitted_step(tx)
    for n, (grads, expected) in enumerate(zip(case["grads"], case["expected"]), 1):
        params, state = step(
            params, state, [jnp.asarray(g, jnp.float32) for g in grads]
        )
        for actual, want in zip(params, expected):
            assert actual.dtype == jnp.float32
            np.testing.assert_allclose(
                np.asarray(actual), want, rtol=0, atol=2e-6 * scale * n
            )
