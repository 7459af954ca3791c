"""Subprocess worker of the gradstep.jax tests (a fresh interpreter each time).

    python -m tests.jax._worker resume STATE.npz OUT.npz   load, M steps, save params
    python -m tests.jax._worker sharded OUT.npz            2 CPU devices, sharded run

The problems are defined here once, so the test and the worker build the same ones.
"""

from __future__ import annotations

import sys

import numpy as np

RESUME_CONFIGS = [
    ("nadam", {"lr": 0.01, "clipnorm": 1.0}),
    ("adam", {"amsgrad": True, "decay": 0.01, "clipvalue": 0.5}),
    ("sgd", {"momentum": 0.9, "nesterov": True}),
]
N, M = 4, 5


def problem(seed: int) -> tuple[dict, list[dict]]:
    rng = np.random.default_rng(seed)
    shapes = {"w": (8, 6), "b": (6,)}
    start = {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
    grads = [
        {k: (rng.standard_normal(s) * 2).astype(np.float32) for k, s in shapes.items()}
        for _ in range(N + M)
    ]
    return start, grads


def make_step(tx):
    import jax
    import optax

    @jax.jit
    def step(params, state, grads):
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    return step


def _resume(state_path: str, out_path: str) -> None:
    import jax
    import jax.numpy as jnp

    import gradstep.jax as gjax

    saved = np.load(state_path)
    out = {}
    for k, (name, config) in enumerate(RESUME_CONFIGS):
        start, grads = problem(k)
        tx = getattr(gjax, name)(**config)
        params = {key: jnp.asarray(saved[f"{k}/params/{key}"]) for key in start}
        treedef = jax.tree_util.tree_structure(tx.init(params))
        count = treedef.num_leaves
        leaves = [jnp.asarray(saved[f"{k}/state/{i}"]) for i in range(count)]
        state = jax.tree_util.tree_unflatten(treedef, leaves)
        step = make_step(tx)
        for g in grads[N:]:
            params, state = step(params, state, jax.tree_util.tree_map(jnp.asarray, g))
        for key, value in params.items():
            out[f"{k}/{key}"] = np.asarray(value)
    np.savez(out_path, **out)


SHARDED_CONFIGS = [
    ("adam", {"lr": 0.01, "clipnorm": 0.5}),
    ("sgd", {"lr": 0.1, "momentum": 0.9, "clipnorm": 0.5}),
    ("nadam", {"clipnorm": 0.5, "clipvalue": 0.2}),
]


def _sharded(out_path: str) -> None:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    import gradstep.jax as gjax

    devices = jax.devices()
    assert len(devices) == 2, devices
    mesh = Mesh(np.array(devices), ("x",))
    spec = {"w": PartitionSpec("x", None), "b": PartitionSpec("x")}
    out = {}
    for k, (name, config) in enumerate(SHARDED_CONFIGS):
        start, grads = problem(10 + k)
        tx = getattr(gjax, name)(**config)

        def put(tree, sharded):
            tree = {key: jnp.asarray(v, jnp.float64) for key, v in tree.items()}
            if not sharded:
                return tree
            return {
                key: jax.device_put(v, NamedSharding(mesh, spec[key]))
                for key, v in tree.items()
            }

        for sharded in (False, True):
            params = put(start, sharded)
            state = tx.init(params)
            step = make_step(tx)
            for g in grads:
                params, state = step(params, state, put(g, sharded))
            if sharded:
                shards = {len(params[key].sharding.device_set) for key in params}
                out[f"{k}/devices"] = np.array(sorted(shards))
            label = "sharded" if sharded else "single"
            for key, value in params.items():
                out[f"{k}/{label}/{key}"] = np.asarray(value)
    np.savez(out_path, **out)


if __name__ == "__main__":
    if sys.argv[1] == "resume":
        _resume(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "sharded":
        _sharded(sys.argv[2])
    else:
        raise SystemExit(f"unknown mode {sys.argv[1]!r}")
