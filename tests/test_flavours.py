"""Flavours on NumPy: every golden trajectory of the real frameworks (tests/golden/flavours,
float64) through both engines at rel <= 1e-10 at every step, float32 within float32
tolerance, the default flavour bitwise what it was, and every flavour's errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gradstep import layers, models, optimizers
from gradstep.optimizers._flavours import FLAVOURS

from ._golden import case_id, flavour_files, golden_files, load_case

CASES = flavour_files()
FUSED = pytest.importorskip("numba") and "fused"


def _run(case, dtype=np.float64, **extra):
    opt = optimizers.get(
        {"class_name": case["optimizer"], "config": {**case["config"], **extra}}
    )
    params = [p.astype(dtype) for p in case["params"]]
    for grads, expected in zip(case["grads"], case["expected"]):
        opt.apply_gradients(zip([g.astype(dtype) for g in grads], params))
        yield opt, params, expected


def test_every_flavour_has_cases():
    for flavour in FLAVOURS[1:]:
        assert len(flavour_files(flavour)) >= 25, flavour


@pytest.mark.parametrize("engine", ["reference", FUSED])
@pytest.mark.parametrize("path", CASES, ids=[case_id(p) for p in CASES])
def test_flavour_trajectory(path, engine):
    case = load_case(path)
    step = 0
    for step, (_, params, expected) in enumerate(_run(case, engine=engine), 1):
        for i, (actual, want) in enumerate(zip(params, expected)):
            np.testing.assert_allclose(
                actual, want, rtol=1e-10, atol=0, err_msg=f"step {step}, param {i}"
            )
    assert step == 15


@pytest.mark.parametrize("path", CASES, ids=[case_id(p) for p in CASES])
def test_flavour_trajectory_float32(path):
    """float32 parameters and gradients against the float64 trajectory: the error is
    float32 rounding, a few ulps per step relative to the parameter's scale."""
    case = load_case(path)
    scale = max(float(np.max(np.abs(p))) for p in case["params"])
    for step, (_, params, expected) in enumerate(_run(case, np.float32), 1):
        for actual, want in zip(params, expected):
            assert actual.dtype == np.float32
            np.testing.assert_allclose(actual, want, rtol=0, atol=2e-6 * scale * step)


@pytest.mark.parametrize("path", golden_files(), ids=[p.stem for p in golden_files()])
def test_keras22_flavour_is_the_default_bit_for_bit(path):
    case = load_case(path)
    plain = list(_run(case))
    named = list(_run(case, flavour="keras22"))
    for (_, a, _), (_, b, _) in zip(plain, named):
        for x, y in zip(a, b):
            assert np.array_equal(x, y)
    assert "flavour" not in plain[-1][0].get_config()


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_config_round_trip_keeps_the_flavour(flavour):
    for name in ("Adam", "RMSprop", "Nadam", "Adagrad", "SGD"):
        opt = getattr(optimizers, name)(lr=0.01, flavour=flavour)
        config = optimizers.serialize(opt)
        again = optimizers.deserialize(json.loads(json.dumps(config)))
        assert again.flavour == flavour
        assert again.get_config() == opt.get_config()


def test_model_compile_by_config_and_save_load_keep_the_flavour(tmp_path):
    model = models.Sequential([layers.Dense(2, input_shape=(3,))])
    model.compile(
        optimizer={
            "class_name": "rmsprop",
            "config": {"flavour": "torch", "centered": True},
        },
        loss="mse",
    )
    x = np.random.default_rng(0).normal(size=(8, 3))
    model.fit(x, x[:, :2], epochs=1, verbose=0)
    path = tmp_path / "m.gradstep"
    model.save(str(path))
    loaded = models.load_model(str(path))
    assert loaded.optimizer.flavour == "torch"
    assert loaded.optimizer.slot_names() == ("accumulator", "mg")
    for a, b in zip(loaded.optimizer.get_weights(), model.optimizer.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_slots_start_where_the_framework_starts_them():
    p = np.ones(3)
    opt = optimizers.Adagrad(flavour="tf_keras")
    opt.build([p])
    assert opt.get_weights()[1].tolist() == [0.1, 0.1, 0.1]
    opt = optimizers.Adagrad(flavour="torch", initial_accumulator_value=0.5)
    opt.build([p])
    assert opt.get_weights()[1].tolist() == [0.5, 0.5, 0.5]


@pytest.mark.parametrize(
    "make,error,words",
    [
        (lambda: optimizers.Adam(flavour="pytorch"), ValueError, "keras22, tf_keras"),
        (lambda: optimizers.Adam(flavour=3), ValueError, "Unknown flavour"),
        (
            lambda: optimizers.RMSprop(centered=True),
            ValueError,
            "flavours with it: tf_keras, keras3, torch, optax",
        ),
        (
            lambda: optimizers.RMSprop(momentum=0.9, flavour="keras22"),
            ValueError,
            "has no momentum",
        ),
        (
            lambda: optimizers.Adagrad(initial_accumulator_value=0.1),
            ValueError,
            "has no initial_accumulator_value",
        ),
        (
            lambda: optimizers.SGD(dampening=0.5, flavour="optax", lr=0.1),
            ValueError,
            "flavours with it: torch",
        ),
        (
            lambda: optimizers.Adam(global_clipnorm=1.0),
            ValueError,
            "flavours with it: tf_keras, keras3",
        ),
        (
            lambda: optimizers.Adam(global_clipnorm=1.0, flavour="torch"),
            ValueError,
            "has no global_clipnorm",
        ),
        (
            lambda: optimizers.Adam(clipnorm=1.0, clipvalue=1.0, flavour="keras3"),
            ValueError,
            "clipnorm, clipvalue",
        ),
        (
            lambda: optimizers.Adam(
                clipnorm=1.0, global_clipnorm=1.0, flavour="tf_keras"
            ),
            ValueError,
            "not both",
        ),
        (lambda: optimizers.Adam(flavour="optax"), TypeError, "needs lr"),
        (lambda: optimizers.Adadelta(flavour="optax"), TypeError, "needs lr"),
        (
            lambda: optimizers.SGD(nesterov=True, flavour="torch"),
            ValueError,
            "Nesterov momentum requires a momentum",
        ),
        (
            lambda: optimizers.SGD(
                momentum=0.9, nesterov=True, dampening=0.1, flavour="torch"
            ),
            ValueError,
            "zero dampening",
        ),
        (
            lambda: optimizers.SGD(momentum=1.5, flavour="keras3"),
            ValueError,
            "momentum must be in [0, 1]",
        ),
        (
            lambda: optimizers.Nadam(schedule_decay=0.004, flavour="keras3"),
            ValueError,
            "has no schedule_decay",
        ),
        (
            lambda: optimizers.Nadam(schedule_decay=0.004, flavour="optax", lr=0.1),
            ValueError,
            "flavours with it: keras22, tf_keras, torch",
        ),
        (
            lambda: optimizers.RMSprop(flavour="torch", centered="yes"),
            ValueError,
            "centered must be True or False",
        ),
    ],
)
def test_flavour_errors_name_what_is_wrong(make, error, words):
    with pytest.raises(error) as info:
        make()
    assert words in str(info.value)


def test_a_user_optimizer_without_a_table_has_keras22_only():
    class Plain(optimizers.SGD):
        flavours = {}

    with pytest.raises(ValueError, match="it defines keras22"):
        Plain(flavour="torch")


def test_momentum_cannot_cross_zero_once_built():
    opt = optimizers.RMSprop(flavour="torch", momentum=0.9)
    p = np.ones(2)
    opt.apply_gradients([(np.ones(2), p)])
    opt.momentum = 0.5  # allowed: same slots
    with pytest.raises(ValueError, match="between 0 and > 0"):
        opt.momentum = 0.0


def test_tf_keras_epsilon_zero_means_its_default():
    assert optimizers.Adam(epsilon=0.0, flavour="tf_keras").epsilon == 1e-7
    assert optimizers.Adam(epsilon=0.0, flavour="torch").epsilon == 0.0
    assert optimizers.Adam(epsilon=0.0).epsilon == 0.0


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("engine", ["reference", FUSED])
def test_torch_sgd_dampening_as_torch_applies_it(momentum, engine):
    """torch dampens the buffer from the second step on, and not at all without one."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    start = rng.normal(size=5) + 2.0
    theirs = torch.tensor(start.copy(), requires_grad=True)
    reference = torch.optim.SGD([theirs], lr=0.1, momentum=momentum, dampening=0.3)
    ours = start.copy()
    opt = optimizers.SGD(
        lr=0.1, momentum=momentum, dampening=0.3, flavour="torch", engine=engine
    )
    for _ in range(6):
        g = rng.normal(size=5)
        theirs.grad = torch.tensor(g)
        reference.step()
        opt.apply_gradients([(g, ours)])
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-14)


def test_tf_keras_rmsprop_momentum_is_at_most_one():
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\]"):
        optimizers.RMSprop(momentum=1.5, flavour="tf_keras")
