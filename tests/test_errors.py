"""Bad input: each raises a specific error naming the problem, before any state changes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradstep import backend, optimizers

BAD_HYPERPARAMETERS = [
    ("SGD", {"lr": -0.1}, "lr must be a finite number >= 0, got -0.1"),
    ("SGD", {"decay": -1e-6}, "decay must be"),
    ("SGD", {"momentum": -0.9}, "momentum must be"),
    ("SGD", {"nesterov": "yes"}, "nesterov must be True or False"),
    ("RMSprop", {"rho": -0.1}, "rho must be"),
    ("RMSprop", {"epsilon": -1e-7}, "epsilon must be"),
    ("Adadelta", {"rho": math.nan}, "rho must be"),
    ("Adam", {"beta_1": 1.0}, r"beta_1 must be in \[0, 1\), got 1.0"),
    ("Adam", {"beta_2": -0.1}, "beta_2 must be in"),
    ("Adam", {"amsgrad": 2}, "amsgrad must be True or False"),
    ("Adamax", {"beta_1": 1.5}, "beta_1 must be in"),
    ("Nadam", {"schedule_decay": -0.004}, "schedule_decay must be"),
    ("Adam", {"lr": math.inf}, "lr must be a finite number"),
    ("Adam", {"lr": "0.1"}, "lr must be a finite number >= 0, got '0.1'"),
    ("Adam", {"lr": None}, "lr must be"),
    ("Adagrad", {"clipnorm": -1.0}, "clipnorm must be"),
    ("Adagrad", {"clipvalue": "big"}, "clipvalue must be"),
    ("Adagrad", {"clipnorm": math.nan}, "clipnorm must be"),
]


@pytest.mark.parametrize("name,kwargs,message", BAD_HYPERPARAMETERS)
def test_bad_hyperparameters(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        getattr(optimizers, name)(**kwargs)


def test_clip_none_and_zero_mean_off():
    p = np.array([10.0])
    optimizers.SGD(lr=1.0, clipnorm=None, clipvalue=0).apply_gradients(
        [(np.array([5.0]), p)]
    )
    assert p[0] == 5.0


@pytest.mark.parametrize(
    "name,keyword",
    [
        ("SGD", "epsilon"),
        ("Nadam", "decay"),
        ("Adam", "name"),
        ("Adagrad", "centered"),
    ],
)
def test_unknown_keywords_are_named(name, keyword):
    with pytest.raises(
        TypeError, match=f"Unexpected keyword argument passed to optimizer: {keyword}"
    ):
        getattr(optimizers, name)(**{keyword: 0.1})


def test_unknown_engine():
    with pytest.raises(ValueError, match="Unknown engine: 'gpu'; expected one of"):
        optimizers.Adam(engine="gpu")


def test_setting_a_bad_lr_later_keeps_the_old_one():
    opt = optimizers.Adam(lr=0.1)
    with pytest.raises(ValueError, match="lr must be"):
        opt.lr = -1.0
    assert opt.lr == 0.1


def test_backend_errors():
    with pytest.raises(ValueError, match="epsilon must be"):
        backend.set_epsilon(-1.0)
    with pytest.raises(ValueError, match="Unknown floatx type: 'float8'"):
        backend.set_floatx("float8")


def _state(opt, params):
    return [p.copy() for p in params], opt.get_weights(), opt.iterations


def _assert_unchanged(opt, params, state):
    before_params, before_weights, before_iterations = state
    for a, b in zip(before_params, params):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(before_weights, opt.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert opt.iterations == before_iterations


@pytest.fixture
def built():
    params = [np.ones((2, 3)), np.ones(4)]
    opt = optimizers.Adam(lr=0.1, clipnorm=1.0)
    opt.apply_gradients(zip([np.ones((2, 3)), np.ones(4)], params))
    return opt, params


BAD_STEPS = [
    (
        lambda p: [(np.ones((3, 2)), p[0]), (np.ones(4), p[1])],
        ValueError,
        r"gradient 0 has shape \(3, 2\) but its parameter has shape \(2, 3\)",
    ),
    (
        lambda p: [(np.ones((2, 3)), p[0]), (None, p[1])],
        ValueError,
        "gradient 1: An operation has `None` for gradient",
    ),
    (
        lambda p: [(np.ones((2, 3)), p[0])],
        ValueError,
        "built for 2 parameters and got 1",
    ),
    (
        lambda p: [(np.ones(4), p[1]), (np.ones((2, 3)), p[0])],
        ValueError,
        "parameter 0 is not the array this optimizer was built for",
    ),
    (
        lambda p: [(np.ones((2, 3)), p[0]), (np.ones(4), np.ones(4))],
        ValueError,
        "parameter 1 is not the array",
    ),
    (
        lambda p: [(np.ones((2, 3)), p[0]), (np.ones(4), [1.0, 1.0, 1.0, 1.0])],
        TypeError,
        "parameter 1 must be a NumPy array, got list",
    ),
    (
        lambda p: [(np.ones((2, 3)), p[0]), (np.ones(4), np.ones(4, dtype=int))],
        TypeError,
        "parameter 1 has dtype int64; parameters must be floating point",
    ),
    (
        lambda p: [(np.ones((2, 3)), p[0]), (np.ones((2, 3)), p[0])],
        ValueError,
        "parameter 1 is the same array as parameter 0",
    ),
    (
        lambda p: [(np.ones((2, 3)), p[0]), (np.array(["a"] * 4), p[1])],
        TypeError,
        "gradient 1 has dtype <U1",
    ),
    (lambda p: [], ValueError, "apply_gradients got no"),
    (lambda p: [(np.ones((2, 3)),)], TypeError, "item 0 is tuple"),
    (lambda p: 5, TypeError, "expects an iterable of"),
]


@pytest.mark.parametrize("make,error,message", BAD_STEPS)
def test_bad_steps_change_nothing(built, make, error, message):
    opt, params = built
    state = _state(opt, params)
    with pytest.raises(error, match=message):
        opt.apply_gradients(make(params))
    _assert_unchanged(opt, params, state)


def test_reused_gradient_arrays_are_checked_again_when_one_changes(built):
    opt, params = built
    grads = [np.ones((2, 3)), np.ones(4)]
    opt.apply_gradients(zip(grads, params))
    opt.apply_gradients(zip(grads, params))  # the same arrays again: the quick path
    state = _state(opt, params)
    with pytest.raises(ValueError, match=r"gradient 1 has shape \(5,\)"):
        opt.apply_gradients([(grads[0], params[0]), (np.ones(5), params[1])])
    with pytest.raises(TypeError, match="item 1 is tuple"):
        opt.apply_gradients([(grads[0], params[0]), (grads[1], params[1], None)])
    with pytest.raises(ValueError, match="parameter 1 is not the array"):
        opt.apply_gradients([(grads[0], params[0]), (grads[1], np.ones(4))])
    _assert_unchanged(opt, params, state)


def test_read_only_parameter():
    p = np.ones(3)
    p.flags.writeable = False
    with pytest.raises(ValueError, match="parameter 0 is read-only"):
        optimizers.SGD().apply_gradients([(np.ones(3), p)])


def test_non_finite_gradients_propagate_as_in_keras():
    p = np.ones(2)
    with np.errstate(all="ignore"):
        optimizers.Adam().apply_gradients([(np.array([np.nan, 1.0]), p)])
    assert np.isnan(p[0]) and np.isfinite(p[1])


def test_gradients_are_not_modified_by_clipping():
    g = np.array([3.0, 4.0])
    optimizers.SGD(clipnorm=1.0, clipvalue=0.1).apply_gradients([(g, np.zeros(2))])
    np.testing.assert_array_equal(g, [3.0, 4.0])
