"""Edge cases where the fused engine must compute what the reference engine computes:
gradients whose memory is also a parameter's, among others. Each step reads every
gradient as it was before the step (Keras computes all gradients first)."""

from __future__ import annotations

import numpy as np
import pytest

from gradstep import optimizers
from gradstep.kernels import numba_available

pytestmark = pytest.mark.skipif(not numba_available(), reason="needs numba")

NAMES = ["SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "Adamax", "Nadam"]


def _optimizer(name, engine):
    extra = {"SGD": {"lr": 0.1, "momentum": 0.9, "nesterov": True}}.get(name, {})
    return getattr(optimizers, name)(engine=engine, **extra)


def _aliased_layouts():
    """(params, grads) makers whose gradients are views of parameter memory."""

    def swapped_separate():
        a, b = np.arange(1.0, 5.0), np.arange(5.0, 9.0)
        return [a, b], [b, a]

    def swapped_one_buffer():
        buffer = np.arange(1.0, 9.0)
        a, b = buffer[:4], buffer[4:]
        return [a, b], [b, a]

    def shifted_self():
        buffer = np.arange(1.0, 10.0)
        return [buffer[1:]], [buffer[:-1]]

    def reversed_other():
        a, b = np.arange(1.0, 5.0), np.arange(5.0, 9.0)
        return [a, b], [np.ones(4), a[::-1]]

    def foreign_buffer():
        memory = bytearray(np.arange(1.0, 9.0).tobytes())
        return [np.frombuffer(memory)[:4]], [np.frombuffer(memory)[1:5]]

    return {
        "foreign_buffer": foreign_buffer,
        "swapped_separate": swapped_separate,
        "swapped_one_buffer": swapped_one_buffer,
        "shifted_self": shifted_self,
        "reversed_other": reversed_other,
    }


def _run(name, engine, make, steps=3):
    opt = _optimizer(name, engine)
    params, grads = make()
    for _ in range(steps):
        opt.apply_gradients(zip(grads, params))
    return [p.copy() for p in params], opt.get_weights()


@pytest.mark.parametrize("layout", sorted(_aliased_layouts()))
@pytest.mark.parametrize("name", NAMES)
def test_gradients_aliasing_parameters_same_in_both_engines(name, layout):
    make = _aliased_layouts()[layout]
    ref_params, ref_weights = _run(name, "reference", make)
    fused_params, fused_weights = _run(name, "fused", make)
    for a, b in zip(ref_params, fused_params):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(ref_weights, fused_weights):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("engine", ["reference", "fused"])
def test_gradient_aliasing_a_parameter_is_read_before_the_step(engine):
    """Against the step on copies of the gradients (no aliasing at all)."""
    params, grads = _aliased_layouts()["swapped_separate"]()
    copies = [p.copy() for p in params]
    copy_grads = [copies[1].copy(), copies[0].copy()]
    aliased = _optimizer("Adam", engine)
    plain = _optimizer("Adam", engine)
    aliased.apply_gradients(zip(grads, params))
    plain.apply_gradients(zip(copy_grads, copies))
    for a, b in zip(params, copies):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("engine", ["reference", "fused"])
def test_gradient_that_is_its_own_parameter_still_fast(engine):
    """g is p element for element: no copy needed, and both engines agree."""
    results = []
    for eng in ("reference", engine):
        p = np.linspace(-1.0, 1.0, 7)
        opt = _optimizer("RMSprop", eng)
        for _ in range(3):
            opt.apply_gradients([(p, p)])
        results.append(p)
    np.testing.assert_array_equal(*results)


@pytest.mark.parametrize("engine", ["reference", "fused"])
@pytest.mark.parametrize("name", NAMES)
def test_step_at_the_largest_counter_refused_before_any_change(name, engine):
    """set_weights accepts iterations = 2**63 - 1 (int64's largest); a step from there
    cannot be recorded in get_weights' int64 counter, so it is refused, and nothing
    changes (parameters, weights, counter)."""
    opt = _optimizer(name, engine)
    p = np.linspace(-1.0, 1.0, 5)
    opt.apply_gradients([(np.ones(5), p)])
    weights = opt.get_weights()
    weights[0] = np.array(np.iinfo(np.int64).max)
    opt.set_weights(weights)
    before = p.copy(), [w.copy() for w in opt.get_weights()]
    with pytest.raises(OverflowError, match="iterations"):
        opt.apply_gradients([(np.ones(5), p)])
    np.testing.assert_array_equal(p, before[0])
    for a, b in zip(opt.get_weights(), before[1]):
        np.testing.assert_array_equal(a, b)
