"""Edge cases of gradstep.jax with params sharded over 2 simulated CPU devices (each
check runs in a fresh interpreter: ``XLA_FLAGS`` must be set before jax is imported)."""

from __future__ import annotations

import textwrap

import pytest

from ._util import run_on_two_devices

pytest.importorskip("gradstep.jax")

_PRELUDE = """
import jax, jax.numpy as jnp, numpy as np, optax
import gradstep.jax as gjax
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
mesh = Mesh(np.array(jax.devices()), ("x",))
assert len(jax.devices()) == 2
rng = np.random.default_rng(0)
specs = {"w": P("x", None), "b": P()}
start = {"w": rng.standard_normal((8, 6)).astype(np.float32),
         "b": rng.standard_normal((6,)).astype(np.float32)}
def put(t):
    return {k: jax.device_put(v, NamedSharding(mesh, specs[k])) for k, v in t.items()}
tx = gjax.adam(lr=0.01, clipnorm=1.0)
traces = [0]
def step(p, st, g):
    traces[0] += 1
    u, st = tx.update(g, st, p)
    return optax.apply_updates(p, u), st
"""


def _run(body: str) -> str:
    return run_on_two_devices(_PRELUDE + textwrap.dedent(body))


def test_sharded_jitted_step_compiles_once():
    out = _run(
        """
        jitted = jax.jit(step)
        p = put(start); st = tx.init(p)
        for _ in range(3):
            p, st = jitted(p, st, put(start))
        print("traces", traces[0])
        """
    )
    assert "traces 1" in out, out


def test_sharded_set_hyperparams_does_not_recompile():
    out = _run(
        """
        jitted = jax.jit(step)
        p = put(start); st = tx.init(p)
        for i in range(3):
            st = gjax.set_hyperparams(st, lr=0.01 * (i + 1))
            p, st = jitted(p, st, put(start))
        print("traces", traces[0])
        print("lr", st.hyperparams["lr"].sharding.device_set == set(jax.devices()))
        """
    )
    assert "traces 1" in out, out
    assert "lr True" in out, out


def test_init_state_shardings_serve_as_in_shardings_with_donation():
    out = _run(
        """
        shardings = {k: NamedSharding(mesh, s) for k, s in specs.items()}
        st = tx.init(put(start))
        st_sh = jax.tree.map(lambda x: x.sharding, st)
        jitted = jax.jit(step, in_shardings=(shardings, st_sh, shardings),
                         out_shardings=(shardings, st_sh), donate_argnums=(0, 1))
        p = put(start)
        for _ in range(2):
            p, st = jitted(p, st, put(start))
        print("ok", st.count.sharding.is_equivalent_to(st_sh.count, 0))
        """
    )
    assert "ok True" in out, out
