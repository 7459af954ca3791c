"""Optimizer paths on the 2-D test functions."""

from __future__ import annotations

import numpy as np
import pytest

from gradstep.lab._errors import LabError
from gradstep.lab.functions import BUILTIN, get_function, user_function
from gradstep.lab.specs import make_spec
from gradstep.lab.trajectories import BOUND, goal_step, legend_text, run_path


@pytest.mark.parametrize("name", ["rosenbrock", "beale", "quadratic"])
def test_builtin_minima_are_stationary_with_value_zero(name):
    fn = BUILTIN[name]
    for minimum in fn.minima:
        assert float(fn.value(*minimum)) == pytest.approx(0.0, abs=1e-15)
        np.testing.assert_allclose(fn.gradient(np.array(minimum)), 0.0, atol=1e-12)


def test_sgd_on_the_quadratic_follows_the_closed_form():
    # f = x**2/2 + 50 y**2: SGD multiplies x by (1 - lr) and y by (1 - 100 lr) per step.
    fn = BUILTIN["quadratic"]
    lr = 0.009
    path = run_path(fn, make_spec("sgd", {"lr": lr}), steps=800, tol=0.01)
    k = np.arange(801)
    x0, y0 = fn.start
    np.testing.assert_allclose(path.points[:, 0], x0 * (1 - lr) ** k, rtol=1e-12)
    np.testing.assert_allclose(
        path.points[:, 1], y0 * (1 - 100 * lr) ** k, rtol=1e-9, atol=1e-300
    )
    distance = np.hypot(path.points[:, 0], path.points[:, 1])
    assert path.reached_at == int(np.flatnonzero(distance <= 0.01)[0])
    assert path.diverged_at is None
    assert (
        legend_text(path, fn, 800)
        == f"sgd(lr=0.009): reached in {path.reached_at} steps"
    )


def test_divergence_stops_the_path_with_finite_points():
    fn = BUILTIN["rosenbrock"]
    path = run_path(fn, make_spec("sgd", {"lr": 0.01}), steps=1000, tol=0.01)
    assert path.diverged_at is not None and path.diverged_at < 20
    assert len(path.points) == path.diverged_at  # start plus the finite steps before it
    assert np.all(np.isfinite(path.points)) and np.abs(path.points).max() <= BOUND
    assert "diverged at step" in legend_text(path, fn, 1000)


def test_saddle_counts_steps_until_escape():
    fn = BUILTIN["saddle"]
    path = run_path(fn, make_spec("sgd", {}), steps=1000, tol=0.01)
    values = fn.value(path.points[:, 0], path.points[:, 1])
    assert path.reached_at == int(np.flatnonzero(values <= -1.0)[0])
    assert goal_step(fn, path.points[: path.reached_at], 0.01) is None


def test_user_function_and_errors():
    fn = user_function("(x - 1)**2 + (y + 2)**2", (0.0, 0.0), minimum=(1.0, -2.0))
    path = run_path(fn, make_spec("adam", {"lr": 0.1}), steps=500, tol=0.01)
    assert path.reached_at is not None
    np.testing.assert_allclose(path.points[-1], [1.0, -2.0], atol=0.05)
    with pytest.raises(LabError, match="--expr: unknown name 'os'"):
        user_function("os", (0.0, 0.0))
    with pytest.raises(LabError, match="--xlim must be LOW,HIGH"):
        user_function("x", (0.0, 0.0), xlim=(1.0, 0.0))
    with pytest.raises(
        LabError,
        match="unknown function 'ackley'; known functions: "
        "rosenbrock, beale, saddle, rastrigin, himmelblau, quadratic",
    ):
        get_function("ackley")


def test_rastrigin_and_himmelblau_have_their_minima():
    rastrigin, himmelblau = get_function("rastrigin"), get_function("himmelblau")
    assert float(rastrigin.value(0.0, 0.0)) == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(rastrigin.gradient(np.zeros(2)), 0.0, atol=1e-12)
    for minimum in himmelblau.minima:
        assert float(himmelblau.value(*minimum)) == pytest.approx(0.0, abs=1e-9)


def test_caret_gets_the_power_hint():
    with pytest.raises(LabError, match=r"use \*\* for powers"):
        user_function("x^2 + y^2", (1.0, 1.0))


def test_default_window_holds_the_start_and_a_far_minimum():
    fn = user_function("(x - 10)**2 + y**2", (0.0, 0.0), minimum=(10.0, 0.0))
    assert fn.xlim[0] < 0.0 < 10.0 < fn.xlim[1]
    assert fn.ylim[0] < 0.0 < fn.ylim[1]
