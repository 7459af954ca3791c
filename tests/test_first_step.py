"""The first step of each optimizer from zero state, worked out by hand for one element,
so a failure points at one formula. g = 0.5, p = 1, epsilon = 1e-7 unless stated."""

from __future__ import annotations

import numpy as np
import pytest

from gradstep import optimizers

from .cases import G, P, first_steps

FIRST_STEPS = first_steps()


@pytest.mark.parametrize(
    "name,case", FIRST_STEPS, ids=[f"{n}-{c.label}" for n, c in FIRST_STEPS]
)
def test_first_step_by_hand(name, case):
    opt = optimizers.get({"class_name": name, "config": case.config})
    p = np.array([P])
    opt.apply_gradients([(np.array([G]), p)])
    assert p[0] == pytest.approx(case.expected, rel=1e-13)


def test_decay_uses_counter_before_the_step():
    opt = optimizers.SGD(lr=0.1, decay=0.5)
    p = np.array([0.0])
    opt.apply_gradients([(np.array([1.0]), p)])
    assert p[0] == pytest.approx(-0.1, rel=1e-15)
    opt.apply_gradients([(np.array([1.0]), p)])
    assert p[0] == pytest.approx(-0.1 - 0.1 / (1 + 0.5 * 1), rel=1e-15)


def test_lr_set_between_steps_composes_with_decay():
    opt = optimizers.SGD(lr=0.1, decay=0.5)
    p = np.array([0.0])
    opt.apply_gradients([(np.array([1.0]), p)])
    opt.lr = 0.2
    opt.apply_gradients([(np.array([1.0]), p)])
    assert p[0] == pytest.approx(-0.1 - 0.2 / (1 + 0.5 * 1), rel=1e-15)


def test_decay_set_later_has_no_effect_when_built_without_decay():
    opt = optimizers.SGD(lr=0.1)
    opt.decay = 0.5
    p = np.array([0.0])
    for _ in range(2):
        opt.apply_gradients([(np.array([1.0]), p)])
    assert p[0] == pytest.approx(-0.2, rel=1e-15)


def test_clipnorm_is_global_and_inclusive():
    a, b = np.zeros(1), np.zeros(1)
    opt = optimizers.SGD(lr=1.0, clipnorm=5.0)
    opt.apply_gradients(
        [(np.array([3.0]), a), (np.array([4.0]), b)]
    )  # norm == 5: scaled
    assert (a[0], b[0]) == pytest.approx((-3.0, -4.0), rel=1e-15)
    opt = optimizers.SGD(lr=1.0, clipnorm=1.0)
    a, b = np.zeros(1), np.zeros(1)
    opt.apply_gradients([(np.array([3.0]), a), (np.array([4.0]), b)])
    assert (a[0], b[0]) == pytest.approx((-0.6, -0.8), rel=1e-15)


def test_clipvalue_after_clipnorm():
    p = np.zeros(2)
    opt = optimizers.SGD(lr=1.0, clipnorm=5.0, clipvalue=2.0)
    opt.apply_gradients([(np.array([6.0, 8.0]), p)])  # norm 10 -> (3, 4) -> (2, 2)
    np.testing.assert_array_equal(p, [-2.0, -2.0])


def test_epsilon_none_reads_backend_at_construction():
    from gradstep import backend

    backend.set_epsilon(1e-3)
    opt = optimizers.Adagrad(lr=1.0)
    backend.set_epsilon(1e-7)
    assert opt.epsilon == 1e-3
    assert optimizers.Adagrad(epsilon=0).epsilon == 0.0
    p = np.array([0.0])
    opt.apply_gradients([(np.array([1.0]), p)])
    assert p[0] == pytest.approx(-1.0 / (1.0 + 1e-3), rel=1e-15)


def test_module_clip_norm_function():
    g = np.array([3.0, 4.0])
    np.testing.assert_array_equal(optimizers.clip_norm(g, 1.0, 5.0), [0.6, 0.8])
    assert optimizers.clip_norm(g, 10.0, 5.0) is g
    assert optimizers.clip_norm(g, 0.0, 5.0) is g
