"""The first step of each optimizer from zero state, worked out by hand for one element,
so a failure points at one formula. g = 0.5, p = 1, epsilon = 1e-7 unless stated."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradstep import optimizers

G, P, EPS = 0.5, 1.0, 1e-7
FIRST_STEP = {
    # v = -lr g ; p + v
    "sgd": (optimizers.SGD(lr=0.1, momentum=0.9), P - 0.1 * G),
    # nesterov: p + mu*v - lr*g with v = -lr*g
    "sgd_nesterov": (
        optimizers.SGD(lr=0.1, momentum=0.9, nesterov=True),
        P + 0.9 * (-0.1 * G) - 0.1 * G,
    ),
    # a = (1-rho) g^2
    "rmsprop": (
        optimizers.RMSprop(lr=0.01),
        P - 0.01 * G / (math.sqrt(0.1 * G * G) + EPS),
    ),
    # a = g^2: a step of about lr
    "adagrad": (optimizers.Adagrad(lr=0.1), P - 0.1 * G / (G + EPS)),
    # a = 0.05 g^2, delta = g sqrt(eps) / sqrt(a + eps)
    "adadelta": (
        optimizers.Adadelta(),
        P - 1.0 * G * math.sqrt(EPS) / math.sqrt(0.05 * G * G + EPS),
    ),
    # lr_t = lr sqrt(1-b2)/(1-b1); m = 0.1 g; v = 0.001 g^2
    "adam": (
        optimizers.Adam(lr=0.1),
        P - 0.1 * math.sqrt(0.001) / 0.1 * (0.1 * G) / (math.sqrt(0.001 * G * G) + EPS),
    ),
    # vhat = max(0, v) = v on the first step
    "amsgrad": (
        optimizers.Adam(lr=0.1, amsgrad=True),
        P - 0.1 * math.sqrt(0.001) / 0.1 * (0.1 * G) / (math.sqrt(0.001 * G * G) + EPS),
    ),
    # lr_t = lr/(1-b1); m = 0.1 g; u = |g|
    "adamax": (optimizers.Adamax(lr=0.1), P - 0.1 / 0.1 * (0.1 * G) / (G + EPS)),
}


def _nadam_first_step() -> float:
    mu1 = 0.9 * (1 - 0.5 * 0.96 ** (1 * 0.004))
    mu2 = 0.9 * (1 - 0.5 * 0.96 ** (2 * 0.004))
    g_prime = G / (1 - mu1)
    m_prime = 0.1 * G / (1 - mu1 * mu2)
    v_prime = 0.001 * G * G / (1 - 0.999)
    m_bar = (1 - mu1) * g_prime + mu2 * m_prime
    return P - 0.1 * m_bar / (math.sqrt(v_prime) + EPS)


FIRST_STEP["nadam"] = (optimizers.Nadam(lr=0.1), _nadam_first_step())


@pytest.mark.parametrize("name", sorted(FIRST_STEP))
def test_first_step_by_hand(name):
    opt, want = FIRST_STEP[name]
    opt = type(opt).from_config(opt.get_config())
    p = np.array([P])
    opt.apply_gradients([(np.array([G]), p)])
    assert p[0] == pytest.approx(want, rel=1e-13)


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
