"""One cross-framework parity test: the same random 20-step problems, float64, through
NumPy (reference and fused engines), gradstep.torch and gradstep.jax (under jit), every
config of every optimizer. The largest relative difference to the reference engine
(per tensor: max |a - b| / max |b|, so an element passing near zero does not turn one
rounding into a large ratio) is printed (``-s``) and must be <= 1e-13."""

from __future__ import annotations

import numpy as np
import pytest

from gradstep import optimizers

from ..cases import all_configs, optimizer_class, torch_class
from ._util import jitted_step, x64

jax = pytest.importorskip("jax")
torch = pytest.importorskip("torch")
jnp = jax.numpy
gjax = pytest.importorskip("gradstep.jax")

STEPS = 20
SHAPES = [(7, 5), (11,), ()]


def _problem(seed):
    rng = np.random.default_rng(seed)
    start = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) * 2.0 for s in SHAPES] for _ in range(STEPS)]
    return start, grads


def _numpy(name, config, engine, start, grads):
    opt = optimizers.get({"class_name": name, "config": dict(config, engine=engine)})
    params = [p.copy() for p in start]
    out = []
    for g in grads:
        opt.apply_gradients(zip(g, params))
        out.append([p.copy() for p in params])
    return out


def _torch(name, config, start, grads):
    params = [torch.nn.Parameter(torch.tensor(p)) for p in start]
    opt = torch_class(name)(params, **config)
    out = []
    for g in grads:
        for p, x in zip(params, g):
            p.grad = torch.tensor(x)
        opt.step()
        out.append([p.detach().numpy().copy() for p in params])
    return out


def _jax(name, config, start, grads):
    with x64():
        tx = gjax.get({"class_name": name, "config": config})
        params = [jnp.asarray(p) for p in start]
        state = tx.init(params)
        step = jitted_step(tx)
        out = []
        for g in grads:
            params, state = step(params, state, [jnp.asarray(x) for x in g])
            out.append([np.asarray(p) for p in params])
    return out


def test_numpy_torch_jax_agree():
    worst: dict[str, float] = {}
    for k, (name, config) in enumerate(all_configs()):
        optimizer_class(name)
        start, grads = _problem(k)
        want = _numpy(name, config, "reference", start, grads)
        runs = {
            "fused": _numpy(name, config, "fused", start, grads),
            "torch": _torch(name, config, start, grads),
            "jax": _jax(name, config, start, grads),
        }
        for label, got in runs.items():
            for step_got, step_want in zip(got, want):
                for a, b in zip(step_got, step_want):
                    rel = np.max(np.abs(a - b)) / np.max(np.abs(b))
                    if rel > worst.get(label, 0.0):
                        worst[label] = float(rel)
            assert worst.get(label, 0.0) <= 1e-13, (name, config, label, worst)
    print(f"\nlargest relative difference to the NumPy reference engine: {worst}")
    assert set(worst) <= {"fused", "torch", "jax"}
