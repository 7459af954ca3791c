"""Save and resume: N steps, the state's leaves to ``np.savez``, M more steps in a fresh
process equal N + M steps straight, bit for bit (CPU). Sharded: with 2 simulated CPU
devices and params sharded over a mesh, the steps (clipnorm's global norm included)
equal the single-device ones and the NumPy reference engine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gradstep import optimizers

from . import _worker

jax = pytest.importorskip("jax")
jnp = jax.numpy
gjax = pytest.importorskip("gradstep.jax")

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, env: dict | None = None) -> None:
    subprocess.run(
        [sys.executable, "-m", "tests.jax._worker", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        check=True,
        capture_output=True,
        timeout=300,
    )


def test_save_and_resume_in_a_fresh_process_is_bitwise(tmp_path):
    saved, straight = {}, {}
    for k, (name, config) in enumerate(_worker.RESUME_CONFIGS):
        start, grads = _worker.problem(k)
        tx = getattr(gjax, name)(**config)
        step = _worker.make_step(tx)
        params = {key: jnp.asarray(v) for key, v in start.items()}
        state = tx.init(params)
        for n, g in enumerate(grads):
            if n == _worker.N:
                for key, value in params.items():
                    saved[f"{k}/params/{key}"] = np.asarray(value)
                for i, leaf in enumerate(jax.tree_util.tree_leaves(state)):
                    saved[f"{k}/state/{i}"] = np.asarray(leaf)
            params, state = step(
                params, state, {a: jnp.asarray(b) for a, b in g.items()}
            )
        for key, value in params.items():
            straight[f"{k}/{key}"] = np.asarray(value)
    np.savez(tmp_path / "state.npz", **saved)
    _run("resume", str(tmp_path / "state.npz"), str(tmp_path / "out.npz"))
    resumed = np.load(tmp_path / "out.npz")
    assert sorted(resumed.files) == sorted(straight)
    for key, value in straight.items():
        assert resumed[key].dtype == np.float32
        np.testing.assert_array_equal(resumed[key], value, err_msg=key)


def test_two_device_sharded_run_equals_single_device_and_numpy(tmp_path):
    out = tmp_path / "sharded.npz"
    _run(
        "sharded",
        str(out),
        env={"XLA_FLAGS": "--xla_force_host_platform_device_count=2"},
    )
    got = np.load(out)
    for k, (name, config) in enumerate(_worker.SHARDED_CONFIGS):
        assert list(got[f"{k}/devices"]) == [2], "the params were not sharded"
        start, grads = _worker.problem(10 + k)
        opt = optimizers.get({"class_name": name, "config": config})
        params = {key: v.astype(np.float64) for key, v in start.items()}
        for g in grads:
            opt.apply_gradients(
                (g[key].astype(np.float64), params[key]) for key in params
            )
        for key in params:
            single, sharded = got[f"{k}/single/{key}"], got[f"{k}/sharded/{key}"]
            np.testing.assert_allclose(sharded, single, rtol=1e-13, err_msg=key)
            np.testing.assert_allclose(sharded, params[key], rtol=1e-11, err_msg=key)
