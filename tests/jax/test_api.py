"""The constructors take the Keras names and defaults; ``get`` takes what
``gradstep.optimizers.get`` takes; ``from_optimizer`` carries a NumPy optimizer's
configuration and weights over; ``import gradstep`` never imports jax."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from gradstep import backend, optimizers

from ..cases import CASES
from ._util import jitted_step, x64

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
jnp = jax.numpy
gjax = pytest.importorskip("gradstep.jax")


@pytest.mark.parametrize("name", sorted(CASES))
def test_keras_defaults_live_in_the_state(name):
    tx = getattr(gjax, name)()
    assert isinstance(tx, optax.GradientTransformation)
    state = tx.init({"w": jnp.zeros(2)})
    numeric = {k: v for k, v in CASES[name].defaults.items() if not isinstance(v, bool)}
    assert {k: float(v) for k, v in state.hyperparams.items()} == pytest.approx(
        numeric, rel=1e-7
    )
    assert int(state.count) == 0


def test_keras_names_and_aliases():
    state = gjax.adam(learning_rate=0.1).init(jnp.zeros(1))
    assert float(state.hyperparams["lr"]) == pytest.approx(0.1)
    backend.set_epsilon(1e-5)
    try:
        state = gjax.rmsprop(epsilon=None).init(jnp.zeros(1))
    finally:
        backend.set_epsilon(1e-7)
    assert float(state.hyperparams["epsilon"]) == pytest.approx(1e-5)
    assert gjax.sgd.__name__ == "sgd"
    assert "Update" in gjax.sgd.__doc__


@pytest.mark.parametrize(
    "identifier",
    ["adam", "Adam", {"class_name": "Adam", "config": {"lr": 0.002}}],
    ids=["name", "class name", "config"],
)
def test_get_accepts_what_optimizers_get_accepts(identifier):
    tx = gjax.get(identifier)
    want = optimizers.get(identifier)
    state = tx.init(jnp.zeros(1))
    assert state.tag[0] == "adam"
    assert float(state.hyperparams["lr"]) == pytest.approx(want.lr)


@pytest.mark.parametrize(
    "name,config",
    [
        ("nadam", {"lr": 0.01}),
        ("adam", {"amsgrad": True, "decay": 0.05, "clipnorm": 1.0}),
        ("adadelta", {}),
    ],
)
def test_from_optimizer_continues_where_numpy_stopped(name, config):
    rng = np.random.default_rng(5)
    start = [rng.standard_normal((2, 3)), rng.standard_normal(3)]
    grads = [[rng.standard_normal(s) * 2 for s in [(2, 3), (3,)]] for _ in range(6)]
    opt = optimizers.get({"class_name": name, "config": config})
    params = [p.copy() for p in start]
    for g in grads[:3]:
        opt.apply_gradients(zip(g, params))
    with x64():
        tx, state = gjax.from_optimizer(opt, {"a": params[0], "b": params[1]})
        step = jitted_step(tx)
        jp = {"a": jnp.asarray(params[0]), "b": jnp.asarray(params[1])}
        for g in grads[3:]:
            jp, state = step(
                jp, state, {"a": jnp.asarray(g[0]), "b": jnp.asarray(g[1])}
            )
    for g in grads[3:]:
        opt.apply_gradients(zip(g, params))
    np.testing.assert_allclose(np.asarray(jp["a"]), params[0], rtol=1e-12)
    np.testing.assert_allclose(np.asarray(jp["b"]), params[1], rtol=1e-12)
    assert int(state.count) == opt.iterations == 6


def test_from_optimizer_before_a_step():
    tx, state = gjax.from_optimizer(optimizers.SGD(lr=0.3, momentum=0.5))
    assert state is None
    tx, state = gjax.from_optimizer(optimizers.SGD(lr=0.3), {"w": jnp.ones(2)})
    assert float(state.hyperparams["lr"]) == pytest.approx(0.3)
    assert jnp.array_equal(state.slots["moment"]["w"], jnp.zeros(2))


def test_import_gradstep_does_not_import_jax():
    code = (
        "import sys, gradstep, gradstep.optimizers, gradstep.models\n"
        "print(sorted(m for m in ('jax', 'optax', 'jaxlib') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
