"""Spec section 12: values Keras 2.2.4 itself produced (Theano, float32), and float32 runs
of the golden cases against the float64 expectations."""

from __future__ import annotations

import numpy as np
import pytest

from gradstep import optimizers

from ._golden import golden_files, load_case

P1 = [1.0, -2.0, 0.5]
P2 = [[0.3, -0.7], [1.5, 0.0]]

# (optimizer, kwargs, p1 after 3 steps, p2 after 3 steps row-major), from spec section 12.
KERAS_224_FLOAT32 = [
    (
        "SGD",
        dict(lr=0.1, momentum=0.9, nesterov=True, decay=0.01),
        [0.331353, -0.6627061, 0.1656765],
        [0.09940593, -0.2319471, 0.4970296, 0],
    ),
    (
        "SGD",
        dict(lr=0.1, clipnorm=1.0),
        [0.8944604, -1.788921, 0.4472302],
        [0.2683381, -0.6261223, 1.341691, 0],
    ),
    (
        "SGD",
        dict(lr=0.1, clipnorm=2.0, clipvalue=0.5),
        [0.85, -1.85, 0.3983471],
        [0.2390083, -0.5576859, 1.35, 0],
    ),
    (
        "RMSprop",
        dict(lr=0.01, decay=0.01),
        [0.9276413, -1.92723, 0.4285005],
        [0.2297243, -0.6280035, 1.427366, 0],
    ),
    (
        "Adagrad",
        dict(lr=0.1),
        [0.7804562, -1.775821, 0.2908992],
        [0.1073226, -0.4847359, 1.277325, 0],
    ),
    (
        "Adadelta",
        dict(),
        [0.9957125, -1.995711, 0.4957158],
        [0.2957203, -0.6957139, 1.495711, 0],
    ),
    (
        "Adam",
        dict(lr=0.1, decay=0.01),
        [0.7045026, -1.703561, 0.2077087],
        [0.01591212, -0.4056327, 1.203835, 0],
    ),
    (
        "Adam",
        dict(lr=0.1, beta_2=0.5, amsgrad=True),
        [0.6954724, -1.697445, 0.2002259],
        [0.01407297, -0.3973345, 1.196569, 0],
    ),
    (
        "Adamax",
        dict(lr=0.1),
        [0.7154995, -1.707648, 0.2309098],
        [0.05085084, -0.4221516, 1.210276, 0],
    ),
    (
        "Nadam",
        dict(lr=0.1),
        [0.7527292, -1.747509, 0.2647271],
        [0.08412017, -0.4576091, 1.249194, 0],
    ),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "name,kwargs,want1,want2",
    KERAS_224_FLOAT32,
    ids=[f"{n}-{i}" for i, (n, *_rest) in enumerate(KERAS_224_FLOAT32)],
)
def test_spec_section_12(name, kwargs, want1, want2, dtype):
    opt = getattr(optimizers, name)(**kwargs)
    p1, p2 = np.array(P1, dtype=dtype), np.array(P2, dtype=dtype)
    for _ in range(3):
        opt.apply_gradients([(p1.copy(), p1), (p2.copy(), p2)])
    assert p1.dtype == dtype and p2.dtype == dtype
    np.testing.assert_allclose(p1, want1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p2.ravel(), want2, rtol=1e-5, atol=1e-6)


def test_nadam_m_schedule_after_three_steps():
    opt = optimizers.Nadam(lr=0.1)
    p = np.array(P1)
    for _ in range(3):
        opt.apply_gradients([(p.copy(), p)])
    assert opt.get_weights()[1] == pytest.approx(0.09121428, rel=1e-6)


CASES = golden_files()


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden_in_float32(path):
    """float32 params and slots stay float32 and follow the float64 trajectory closely."""
    case = load_case(path)
    opt = optimizers.get({"class_name": case["optimizer"], "config": case["config"]})
    params = [p.astype(np.float32) for p in case["params"]]
    for grads, expected in zip(case["grads"], case["expected"]):
        opt.apply_gradients(zip([g.astype(np.float32) for g in grads], params))
        for actual, want in zip(params, expected):
            assert actual.dtype == np.float32
            scale = np.max(np.abs(want))
            np.testing.assert_allclose(actual, want, rtol=2e-4, atol=2e-5 * scale)
    for weight in opt.get_weights()[1 + len(opt.scalar_state) :]:
        assert weight.dtype == np.float32
