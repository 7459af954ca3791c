"""Flavour edges the golden trajectories do not reach: hyperparameters assigned after
construction (``opt.clipvalue = v``, ``opt.momentum = m``) go through the same flavour
checks as the constructor's arguments, and a refused assignment leaves the optimizer as
it was (its config still rebuilds it, it steps as before).

Real-framework data: ``tests/golden/flavours/edges/data/``, written by the generators
beside it (``generate_keras3_edges.py``, ``generate_tf_keras_edges.py``):

- Keras 3 with a second clip key assigned after construction applies its first key
  only (and its own ``get_config`` then no longer rebuilds); gradstep refuses the
  assignment, and so steps exactly as Keras 3 did;
- Keras 3 crashes on the step after a momentum that was 0 at build is assigned > 0;
  gradstep refuses the assignment;
- tf_keras ignores a momentum assigned > 0 to an SGD or RMSprop made with momentum 0
  (its constructor chose the kernel); gradstep refuses it, and so steps as tf_keras.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gradstep import optimizers

DATA = Path(__file__).resolve().parent / "golden" / "flavours" / "edges" / "data"


def _files(pattern):
    return sorted(DATA.glob(pattern))


CLIP_FILES = _files("keras3_*clip*.json")
CRASH_FILES = _files("keras3_*_momentum_assigned_after_build.json")
TF_MOMENTUM_FILES = _files("tf_keras_*momentum_assigned*.json")


def _ids(paths):
    return [p.stem for p in paths]


def _check_trajectory(opt, case):
    params = [np.array(p, dtype=np.float64) for p in case["params"]]
    step = 0
    for step, (grads, expected) in enumerate(zip(case["grads"], case["expected"]), 1):
        opt.apply_gradients(zip([np.array(g, dtype=np.float64) for g in grads], params))
        for actual, want in zip(params, expected):
            np.testing.assert_allclose(
                actual, np.array(want), rtol=1e-12, atol=0, err_msg=f"step {step}"
            )
    assert step == 15


def _params():
    return [np.array([1.0, -2.0, 3.0]), np.array([[0.5, 0.7], [-0.2, 0.1]])]


def _grads(step):
    rng = np.random.default_rng(step)
    return [3.0 * rng.standard_normal(3), 3.0 * rng.standard_normal((2, 2))]


def _trajectory(opt, steps=4):
    params = _params()
    out = []
    for step in range(steps):
        opt.apply_gradients(zip(_grads(step), params))
        out.append([p.copy() for p in params])
    return out


def _assert_refused_and_unchanged(opt, name, value, match):
    config = opt.get_config()
    before = getattr(opt, name)
    with pytest.raises(ValueError, match=match):
        setattr(opt, name, value)
    assert getattr(opt, name) == before
    assert opt.get_config() == config
    again = type(opt).from_config(config)
    assert again.get_config() == config
    if opt.built:
        return
    for a, b in zip(_trajectory(opt), _trajectory(again)):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def test_the_edge_data_is_there():
    assert (
        len(CLIP_FILES) == 2 and len(CRASH_FILES) == 2 and len(TF_MOMENTUM_FILES) == 3
    )


@pytest.mark.parametrize("path", CLIP_FILES, ids=_ids(CLIP_FILES))
def test_keras3_second_clip_key_assigned_later_is_refused_and_steps_as_keras3(path):
    case = json.loads(path.read_text())
    opt = getattr(optimizers, case["optimizer"])(flavour="keras3", **case["config"])
    for key, value in case["assigned"].items():
        with pytest.raises(ValueError, match="clips in one way only"):
            setattr(opt, key, value)
    assert not case["config_rebuilds"]  # Keras 3's own config fails; gradstep's holds
    assert type(opt).from_config(opt.get_config()).get_config() == opt.get_config()
    _check_trajectory(opt, case)


@pytest.mark.parametrize("path", CRASH_FILES, ids=_ids(CRASH_FILES))
def test_keras3_momentum_cannot_leave_zero_once_built(path):
    """Keras 3 has no momentum slot then (its next step fails); gradstep refuses."""
    case = json.loads(path.read_text())
    assert case["framework_error"].startswith("IndexError")
    opt = getattr(optimizers, case["optimizer"])(flavour="keras3", **case["config"])
    params = [np.ones(3), np.ones((2, 2))]
    opt.apply_gradients(zip([np.full(3, 0.5), np.full((2, 2), -0.5)], params))
    for key, value in case["assigned_after_first_step"].items():
        _assert_refused_and_unchanged(opt, key, value, "between 0 and > 0")


@pytest.mark.parametrize("path", TF_MOMENTUM_FILES, ids=_ids(TF_MOMENTUM_FILES))
def test_tf_keras_momentum_stays_as_constructed_and_steps_as_tf_keras(path):
    """Whether tf_keras uses momentum is its constructor's choice: a momentum assigned
    later (before the first step too) is refused, and the steps are tf_keras's."""
    case = json.loads(path.read_text())
    opt = getattr(optimizers, case["optimizer"])(flavour="tf_keras", **case["config"])
    params = [np.array(p, dtype=np.float64) for p in case["params"]]
    for step, (grads, expected) in enumerate(zip(case["grads"], case["expected"]), 1):
        if step == case["assigned_before_step"]:
            for key, value in case["assigned"].items():
                with pytest.raises(ValueError, match="between 0 and > 0"):
                    setattr(opt, key, value)
        opt.apply_gradients(zip([np.array(g, dtype=np.float64) for g in grads], params))
        for actual, want in zip(params, expected):
            np.testing.assert_allclose(
                actual, np.array(want), rtol=1e-12, atol=0, err_msg=f"step {step}"
            )


@pytest.mark.parametrize("optimizer", ["SGD", "RMSprop"])
def test_tf_keras_momentum_cannot_become_zero_either(optimizer):
    """tf_keras keeps its momentum kernel (RMSprop: epsilon inside the root) when the
    momentum becomes 0: a gradstep rule chosen anew would differ, so it is refused."""
    opt = getattr(optimizers, optimizer)(flavour="tf_keras", momentum=0.5)
    _assert_refused_and_unchanged(opt, "momentum", 0.0, "tf_keras chooses its update")
    opt.momentum = 0.25  # within > 0: the same kernel
    assert opt.momentum == 0.25


def test_keras3_momentum_may_change_before_build_and_within_its_side():
    opt = optimizers.SGD(flavour="keras3")
    opt.momentum = 0.9  # Keras 3 makes its slots at build: used
    assert opt.slot_names() == ("moment",)
    params = [np.ones(2)]
    opt.apply_gradients([(np.ones(2), params[0])])
    opt.momentum = 0.5
    with pytest.raises(ValueError, match="once the optimizer is built"):
        opt.momentum = 0.0


@pytest.mark.parametrize(
    "flavour, first, name, value, match",
    [
        ("keras3", {"clipnorm": 1.0}, "clipvalue", 0.5, "clips in one way only"),
        ("keras3", {"clipnorm": 1.0}, "global_clipnorm", 0.5, "clips in one way only"),
        ("keras3", {"clipvalue": 1.0}, "clipnorm", 0.5, "clips in one way only"),
        ("keras3", {"global_clipnorm": 1.0}, "clipvalue", 0.5, "in one way only"),
        ("tf_keras", {"clipnorm": 1.0}, "global_clipnorm", 0.5, "not both"),
        ("tf_keras", {"global_clipnorm": 1.0}, "clipnorm", 0.5, "not both"),
        ("keras22", {}, "global_clipnorm", 0.5, "flavours with it: tf_keras, keras3"),
        ("torch", {}, "global_clipnorm", 0.5, "flavours with it: tf_keras, keras3"),
        ("optax", {}, "global_clipnorm", 0.5, "flavours with it: tf_keras, keras3"),
    ],
)
def test_clip_keys_assigned_later_get_the_constructors_checks(
    flavour, first, name, value, match
):
    extra = {"lr": 0.01} if flavour == "optax" else {}
    opt = optimizers.SGD(flavour=flavour, momentum=0.5, **first, **extra)
    _assert_refused_and_unchanged(opt, name, value, match)


@pytest.mark.parametrize("flavour", ["keras3", "tf_keras"])
def test_clip_keys_that_combine_can_still_be_assigned(flavour):
    opt = optimizers.Adam(flavour=flavour, clipvalue=0.5)
    opt.global_clipnorm = 1.0 if flavour == "tf_keras" else None
    opt.clipvalue = 0.3
    opt.clipnorm = None
    opt.global_clipnorm = 0  # off is always accepted
    rebuilt = optimizers.Adam.from_config(opt.get_config())
    assert rebuilt.get_config() == opt.get_config()


@pytest.mark.parametrize(
    "make, name, value",
    [
        (lambda: optimizers.RMSprop(), "momentum", 0.9),
        (lambda: optimizers.RMSprop(), "centered", True),
        (lambda: optimizers.Adagrad(), "initial_accumulator_value", 0.1),
        (lambda: optimizers.SGD(flavour="tf_keras"), "dampening", 0.3),
        (lambda: optimizers.SGD(flavour="keras3"), "dampening", 0.3),
    ],
)
def test_a_knob_the_flavour_lacks_is_refused_when_assigned(make, name, value):
    """The constructor's error (naming the flavours that have the knob), not a value
    stored and never used."""
    opt = make()
    _assert_refused_and_unchanged(opt, name, value, "flavours with it:")
    off = type(opt).knobs_off[name]
    setattr(opt, name, off)  # the "off" value is accepted, as in the constructor
    assert getattr(opt, name) == off


@pytest.mark.parametrize("flavour", ["keras3", "optax"])
def test_an_argument_the_framework_has_not_cannot_be_assigned(flavour):
    opt = optimizers.Nadam(flavour=flavour, lr=0.01)
    _assert_refused_and_unchanged(opt, "schedule_decay", 0.004, "has no schedule_decay")
    opt.schedule_decay = opt.schedule_decay  # its fixed value: nothing changes


@pytest.mark.parametrize(
    "make",
    [
        lambda: optimizers.SGD(flavour="tf_keras", momentum=0.5),
        lambda: optimizers.SGD(flavour="keras3", momentum=0.5),
        lambda: optimizers.RMSprop(flavour="tf_keras", momentum=0.5),
    ],
)
def test_the_flavours_own_range_holds_for_assignments(make):
    opt = make()
    _assert_refused_and_unchanged(opt, "momentum", 1.5, r"momentum must be in \[0, 1\]")
    opt.momentum = 1.0
    assert opt.momentum == 1.0


def test_torch_nesterov_keeps_its_momentum_when_assigned():
    opt = optimizers.SGD(flavour="torch", momentum=0.9, nesterov=True)
    _assert_refused_and_unchanged(opt, "momentum", 0.0, "Nesterov momentum requires")


def test_learning_rate_assignments_are_unaffected():
    opt = optimizers.RMSprop(flavour="tf_keras", momentum=0.5, clipnorm=1.0)
    for lr in (0.1, 0.01, 0.0):
        opt.lr = lr
        assert opt.lr == lr


@pytest.mark.parametrize("flavour", ["torch", "optax"])
def test_buffer_momentum_cannot_leave_zero_once_built(flavour):
    """With momentum 0 the torch/optax buffer holds the last gradient; torch.optim
    would start a fresh buffer and optax has none: gradstep refuses the change."""
    opt = optimizers.SGD(lr=0.1, momentum=0.0, flavour=flavour)
    params = [np.ones(3)]
    opt.apply_gradients(zip([np.full(3, 0.5)], params))
    _assert_refused_and_unchanged(opt, "momentum", 0.9, "between 0 and > 0")
    fresh = optimizers.SGD(lr=0.1, momentum=0.0, flavour=flavour)
    fresh.momentum = 0.9  # not built yet: no slot depends on it
    assert fresh.momentum == 0.9
