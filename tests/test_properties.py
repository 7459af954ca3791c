"""Properties every optimizer keeps, checked with hypothesis on random data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gradstep import optimizers
from gradstep.optimizers import global_norm

from .cases import all_configs, config_ids

ALL = all_configs()
IDS = config_ids(ALL)
finite = st.floats(-1e3, 1e3, allow_nan=False, width=64)
shapes = st.sampled_from([(1,), (3,), (2, 3), (2, 1, 2)])


@st.composite
def problems(draw, dtype=np.float64):
    shape_list = draw(st.lists(shapes, min_size=1, max_size=3))
    params = [draw(arrays(dtype, s, elements=finite)) for s in shape_list]
    steps = draw(st.integers(1, 4))
    grads = [
        [draw(arrays(dtype, s, elements=finite)) for s in shape_list]
        for _ in range(steps)
    ]
    return params, grads


def _make(name, config, **extra):
    return optimizers.get({"class_name": name, "config": {**config, **extra}})


@pytest.mark.parametrize("name,config", ALL, ids=IDS)
@settings(max_examples=25, deadline=None)
@given(problem=problems())
def test_zero_learning_rate_leaves_params_unchanged(name, config, problem):
    params, grads = problem
    start = [p.copy() for p in params]
    opt = _make(name, config, lr=0.0)
    for step in grads:
        opt.apply_gradients(zip(step, params))
    for a, b in zip(start, params):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name,config", ALL, ids=IDS)
@settings(max_examples=25, deadline=None)
@given(problem=problems())
def test_zero_gradients_never_make_nan(name, config, problem):
    params, grads = problem
    opt = _make(name, config)
    for step in grads:
        opt.apply_gradients(zip([np.zeros_like(g) for g in step], params))
    assert all(np.isfinite(p).all() for p in params)
    assert all(np.isfinite(w).all() for w in opt.get_weights())


@settings(max_examples=50, deadline=None)
@given(
    problem=problems(), clipnorm=st.floats(1e-3, 10.0), clipvalue=st.floats(1e-3, 10.0)
)
def test_clipping_bounds_the_step(problem, clipnorm, clipvalue):
    """Plain SGD with lr=1 moves params by exactly minus the clipped gradient."""
    params, grads = problem
    for kwargs, check in (
        ({"clipnorm": clipnorm}, lambda d: global_norm(d) <= clipnorm * (1 + 1e-12)),
        (
            {"clipvalue": clipvalue},
            lambda d: max(np.abs(x).max() for x in d) <= clipvalue,
        ),
    ):
        opt = optimizers.SGD(lr=1.0, **kwargs)
        work = [p.copy() for p in params]
        before = [p.copy() for p in work]
        opt.apply_gradients(zip(grads[0], work))
        moved = [b - a for a, b in zip(work, before)]
        # the move is -clipped(g) up to one rounding of p - g
        tol = [
            np.spacing(np.maximum(np.abs(a), np.abs(b))) * 2
            for a, b in zip(work, before)
        ]
        tolerant = [
            np.sign(m) * np.maximum(np.abs(m) - t, 0) for m, t in zip(moved, tol)
        ]
        assert check(tolerant)


@pytest.mark.parametrize("name,config", ALL, ids=IDS)
@settings(max_examples=15, deadline=None)
@given(problem=problems(dtype=np.float32))
def test_float32_in_float32_out(name, config, problem):
    params, grads = problem
    opt = _make(name, config, clipnorm=1.0)
    for step in grads:
        opt.apply_gradients(zip(step, params))
    assert all(p.dtype == np.float32 for p in params)
    assert all(
        w.dtype == np.float32 for w in opt.get_weights()[1 + len(opt.scalar_state) :]
    )


@pytest.mark.parametrize("name,config", ALL, ids=IDS)
@settings(max_examples=10, deadline=None)
@given(problem=problems(), seed=st.integers(0, 2**32 - 1))
def test_float32_follows_float64(name, config, problem, seed):
    """The float32 path tracks a float64 run of the same problem."""
    params, grads = problem
    p64 = [p.copy() for p in params]
    p32 = [p.astype(np.float32) for p in params]
    o64, o32 = _make(name, config), _make(name, config)
    for step in grads:
        o64.apply_gradients(zip(step, p64))
        o32.apply_gradients(zip([g.astype(np.float32) for g in step], p32))
    for a, b in zip(p32, p64):
        scale = max(1.0, float(np.abs(b).max()))
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * scale)
