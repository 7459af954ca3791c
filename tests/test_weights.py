"""get_weights / set_weights: complete state, Keras layouts, resuming bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from gradstep import optimizers

SHAPES = [(3,), (2, 2)]
# len(get_weights()) for n = 2 parameters (Keras 2.3 layout) and the 2.2.4 length.
LAYOUTS = {
    "SGD": (1 + 2, 1 + 2),
    "RMSprop": (1 + 2, 2),
    "Adagrad": (1 + 2, 2),
    "Adadelta": (1 + 4, 4),
    "Adam": (1 + 6, 1 + 6),
    "Adamax": (1 + 4, 1 + 4),
    "Nadam": (2 + 4, 1 + 4),
}
CONFIGS = [
    ("SGD", {"momentum": 0.9, "decay": 0.1}),
    ("SGD", {"momentum": 0.5, "nesterov": True}),
    ("RMSprop", {"decay": 0.01}),
    ("Adagrad", {"decay": 0.01, "clipnorm": 0.5}),
    ("Adadelta", {"decay": 0.01}),
    ("Adam", {"decay": 0.01}),
    ("Adam", {"amsgrad": True, "clipvalue": 0.1}),
    ("Adamax", {"decay": 0.01}),
    ("Nadam", {}),
]


def _params(rng, dtype=np.float64):
    return [rng.normal(size=s).astype(dtype) for s in SHAPES]


def _run(opt, params, grads):
    for step in grads:
        opt.apply_gradients(zip(step, params))


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_layout_lengths_and_iterations_first(name):
    opt = getattr(optimizers, name)()
    assert opt.get_weights() == []
    params = _params(np.random.default_rng(0))
    opt.apply_gradients(zip([np.ones(s) for s in SHAPES], params))
    weights = opt.get_weights()
    assert len(weights) == LAYOUTS[name][0]
    assert weights[0].shape == () and weights[0].dtype == np.int64 and weights[0] == 1


def test_adam_dummy_vhats_and_nadam_schedule():
    params = _params(np.random.default_rng(0))
    adam = optimizers.Adam()
    adam.apply_gradients(zip([np.ones(s) for s in SHAPES], params))
    assert [w.shape for w in adam.get_weights()[-2:]] == [(1,), (1,)]
    nadam = optimizers.Nadam()
    nadam.apply_gradients(zip([np.ones(s) for s in SHAPES], params))
    assert nadam.get_weights()[1] == pytest.approx(0.9 * (1 - 0.5 * 0.96**0.004))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,config", CONFIGS, ids=[f"{n}{c}" for n, c in CONFIGS])
def test_resume_from_weights_is_bitwise_identical(name, config, dtype):
    rng = np.random.default_rng(3)
    grads = [[rng.normal(size=s).astype(dtype) for s in SHAPES] for _ in range(10)]
    start = _params(rng, dtype)

    straight = [p.copy() for p in start]
    _run(getattr(optimizers, name)(**config), straight, grads)

    resumed = [p.copy() for p in start]
    first = getattr(optimizers, name)(**config)
    _run(first, resumed, grads[:4])
    second = optimizers.deserialize(optimizers.serialize(first))
    second.build(resumed)
    second.set_weights(first.get_weights())
    _run(second, resumed, grads[4:])
    for a, b in zip(straight, resumed):
        assert a.dtype == dtype
        np.testing.assert_array_equal(a, b)
    for a, b in zip(second.get_weights()[1:], first.get_weights()[1:]):
        assert a.dtype == b.dtype and a.shape == b.shape


@pytest.mark.parametrize("name", ["RMSprop", "Adagrad", "Adadelta", "Nadam"])
def test_keras_224_layouts_are_accepted(name):
    rng = np.random.default_rng(0)
    params = _params(rng)
    opt = getattr(optimizers, name)()
    opt.apply_gradients(zip([np.ones(s) for s in SHAPES], params))
    full = opt.get_weights()
    omitted = 0 if name != "Nadam" else 1
    short = full[:omitted] + full[omitted + 1 :]
    assert len(short) == LAYOUTS[name][1]
    fresh = getattr(optimizers, name)()
    fresh.build(params)
    fresh.set_weights(short)
    restored = fresh.get_weights()
    if name == "Nadam":
        assert (
            restored[0] == 1 and restored[1] == 1.0
        )  # m_schedule restarts, as in 2.2.4
    else:
        assert restored[0] == 0  # iterations restarts, as in 2.2.4
    for a, b in zip(
        restored[2 if name == "Nadam" else 1 :], short[1 if name == "Nadam" else 0 :]
    ):
        np.testing.assert_array_equal(a, b)


def _built_adam():
    params = _params(np.random.default_rng(0))
    opt = optimizers.Adam()
    opt.apply_gradients(zip([np.ones(s) for s in SHAPES], params))
    return opt, params


def test_set_weights_length_mismatch_changes_nothing():
    opt, _ = _built_adam()
    before = opt.get_weights()
    with pytest.raises(
        ValueError, match=r"Length of the specified weight list \(3\) does not match"
    ):
        opt.set_weights(before[:3])
    for a, b in zip(before, opt.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_set_weights_shape_mismatch_changes_nothing():
    opt, _ = _built_adam()
    before = opt.get_weights()
    bad = [w + 1 for w in before]
    bad[4] = np.zeros((5,))
    with pytest.raises(
        ValueError, match=r"Optimizer weight shape \(2, 2\) not compatible"
    ):
        opt.set_weights(bad)
    for a, b in zip(before, opt.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert opt.iterations == 1


def test_set_weights_rejects_non_arrays_and_bad_iterations():
    opt, _ = _built_adam()
    weights = opt.get_weights()
    with pytest.raises(ValueError, match=r"weight m\[0\] must be an array"):
        opt.set_weights([weights[0], [1.0, 2.0, 3.0]] + weights[2:])
    with pytest.raises(ValueError, match=r"iterations must be an integer in \[0, 2"):
        opt.set_weights([np.array(-1)] + weights[1:])
    with pytest.raises(ValueError, match=r"iterations must be an integer in \[0, 2"):
        opt.set_weights([np.array(1.5)] + weights[1:])


def test_set_weights_before_build_is_a_length_error():
    with pytest.raises(ValueError, match="has none before build"):
        optimizers.Adam().set_weights([np.array(0)])
