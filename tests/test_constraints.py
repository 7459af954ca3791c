"""Weight constraints: Keras 2.2.4's formulas (written out by hand from its source), applied
by the optimizer after the update within the step (Keras 2.2's ``get_updates``:
``new_p = p.constraint(new_p)``), identically in every engine; configs; refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gradstep import backend, constraints, optimizers

RNG = np.random.default_rng(7)
EPS = 1e-7


def _w():
    return RNG.normal(size=(4, 3)) * 3


# ---- the formulas ----------------------------------------------------------------------
def test_max_norm_is_keras_formula_per_column():
    w = _w()
    norms = np.sqrt(np.sum(w**2, axis=0, keepdims=True))
    expected = w * (np.clip(norms, 0, 2.0) / (EPS + norms))
    np.testing.assert_array_equal(constraints.max_norm(2.0)(w), expected)
    assert np.all(np.linalg.norm(constraints.MaxNorm(2.0)(w), axis=0) <= 2.0 + 1e-12)


def test_max_norm_leaves_small_columns_almost_unchanged_and_epsilon_counts():
    w = np.array([[0.3], [0.4]])  # norm 0.5 < 2
    out = constraints.MaxNorm(2)(w)
    np.testing.assert_allclose(out, w * (0.5 / (0.5 + EPS)), rtol=0, atol=0)
    backend.set_epsilon(0.5)
    np.testing.assert_allclose(constraints.MaxNorm(2)(w), w * 0.5)


def test_max_norm_axis_1_and_none():
    w = _w()
    rows = np.sqrt(np.sum(w**2, axis=1, keepdims=True))
    np.testing.assert_array_equal(
        constraints.MaxNorm(1.0, axis=1)(w), w * (np.clip(rows, 0, 1.0) / (EPS + rows))
    )
    whole = np.sqrt(np.sum(w**2))
    np.testing.assert_allclose(
        constraints.MaxNorm(1.0, axis=None)(w), w * (1.0 / (EPS + whole))
    )
    both = constraints.MaxNorm(1.0, axis=[0, 1])(w)
    np.testing.assert_allclose(both, w * (1.0 / (EPS + whole)))


def test_non_neg_zeroes_negatives():
    w = np.array([[-1.0, 0.0, 2.0], [3.0, -0.5, 0.25]])
    np.testing.assert_array_equal(
        constraints.non_neg()(w), [[0.0, 0.0, 2.0], [3.0, 0.0, 0.25]]
    )


def test_unit_norm_formula():
    w = _w()
    np.testing.assert_array_equal(
        constraints.unit_norm()(w),
        w / (EPS + np.sqrt(np.sum(w**2, axis=0, keepdims=True))),
    )


@pytest.mark.parametrize("rate", [1.0, 0.3])
def test_min_max_norm_formula(rate):
    w = _w()
    w[:, 0] *= 1e-3  # one small column, pushed up to min_value
    norms = np.sqrt(np.sum(w**2, axis=0, keepdims=True))
    desired = rate * np.clip(norms, 0.5, 1.5) + (1 - rate) * norms
    np.testing.assert_array_equal(
        constraints.min_max_norm(0.5, 1.5, rate)(w), w * (desired / (EPS + norms))
    )


def test_constraints_do_not_modify_their_input_and_keep_float32():
    w = _w().astype(np.float32)
    before = w.copy()
    for c in (constraints.MaxNorm(1), constraints.NonNeg(), constraints.UnitNorm()):
        out = c(w)
        assert out.dtype == np.float32 and out.shape == w.shape
    np.testing.assert_array_equal(w, before)


# ---- in the optimizer step ------------------------------------------------------------
def _params():
    return [RNG.normal(size=(5, 3)) * 2, RNG.normal(size=(3,))]


@pytest.mark.parametrize("engine", ["reference", "fused"])
def test_step_then_constraint_matches_keras_get_updates(engine):
    """SGD with momentum: v = m*v - lr*g; p = p + v; p = constraint(p), every step."""
    params, grads = _params(), [RNG.normal(size=(5, 3)), RNG.normal(size=(3,))]
    expected = [p.copy() for p in params]
    velocity = [np.zeros_like(p) for p in params]
    cons = [constraints.MaxNorm(1.5), constraints.NonNeg()]
    opt = optimizers.SGD(lr=0.1, momentum=0.9, engine=engine)
    for _ in range(4):
        opt.apply_gradients(zip(grads, params), constraints=cons)
        for i, (p, g) in enumerate(zip(expected, grads)):
            velocity[i] = 0.9 * velocity[i] - 0.1 * g
            expected[i] = cons[i](p + velocity[i])
    for got, want in zip(params, expected):
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)
    assert opt.iterations == 4


@pytest.mark.parametrize(
    "name", ["SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "Adamax", "Nadam"]
)
def test_engines_agree_with_constraints(name):
    results = []
    start = _params()
    grads = [RNG.normal(size=p.shape) for p in start]
    for engine in ("reference", "fused"):
        params = [p.copy() for p in start]
        opt = getattr(optimizers, name)(engine=engine)
        for _ in range(3):
            opt.apply_gradients(
                zip(grads, params),
                constraints=[constraints.UnitNorm(), constraints.MinMaxNorm(0.1, 0.4)],
            )
        results.append((params, opt.get_weights()))
    (a, wa), (b, wb) = results
    for x, y in zip(a + wa, b + wb):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)


def test_none_entries_and_no_constraints_change_nothing():
    start = _params()
    grads = [RNG.normal(size=p.shape) for p in start]
    plain, constrained = [p.copy() for p in start], [p.copy() for p in start]
    optimizers.Adam().apply_gradients(zip(grads, plain))
    optimizers.Adam().apply_gradients(zip(grads, constrained), constraints=[None, None])
    for x, y in zip(plain, constrained):
        np.testing.assert_array_equal(x, y)


def test_any_callable_is_a_constraint():
    params = _params()
    opt = optimizers.SGD(lr=0.1)
    opt.apply_gradients(
        zip([np.ones_like(p) for p in params], params),
        constraints=[lambda w: np.clip(w, -0.5, 0.5), None],
    )
    assert np.max(np.abs(params[0])) <= 0.5


def test_constraint_sees_a_copy():
    params = _params()
    seen = []

    def sneaky(w):
        seen.append(w)
        w[...] = 123.0  # must not reach the parameter: the returned value counts
        return np.zeros_like(w)

    optimizers.SGD().apply_gradients(
        zip([np.ones_like(p) for p in params], params), constraints=[sneaky, None]
    )
    np.testing.assert_array_equal(params[0], 0.0)
    assert seen[0] is not params[0]


# ---- refusals, nothing half-stepped -----------------------------------------------------
@pytest.mark.parametrize(
    "bad, error, words",
    [
        ([constraints.NonNeg()], ValueError, "1 entries for 2"),
        ([None, None, None], ValueError, "3 entries for 2"),
        ([None, "max_norm"], TypeError, "constraints[1]"),
        (constraints.NonNeg(), TypeError, "one entry per"),
        ("max_norm", TypeError, "one entry per"),
        (42, TypeError, "one entry per"),
    ],
)
def test_bad_constraints_argument_raises_before_anything_changes(bad, error, words):
    params = _params()
    before = [p.copy() for p in params]
    opt = optimizers.Adam()
    with pytest.raises(error, match=None) as info:
        opt.apply_gradients(
            zip([np.ones_like(p) for p in params], params), constraints=bad
        )
    assert words in str(info.value) and "constraints" in str(info.value)
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p, b)
    assert opt.iterations == 0 and not opt.built


@pytest.mark.parametrize("engine", ["reference", "fused"])
@pytest.mark.parametrize(
    "failing, words",
    [
        (lambda w: w[:1], "returned shape"),
        (lambda w: 1 / 0, None),
        (lambda w: np.array(["a"] * w.size).reshape(w.shape), "dtype"),
    ],
)
def test_failing_constraint_restores_parameters_and_slots(engine, failing, words):
    params = _params()
    grads = [RNG.normal(size=p.shape) for p in params]
    opt = optimizers.Adam(engine=engine)
    opt.apply_gradients(zip(grads, params))  # built, slots hold values
    before = [p.copy() for p in params]
    weights = opt.get_weights()
    with pytest.raises((ValueError, TypeError, ZeroDivisionError)) as info:
        opt.apply_gradients(zip(grads, params), constraints=[None, failing])
    if words:
        assert words in str(info.value) and "constraints[1]" in str(info.value)
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p, b)
    for a, b in zip(opt.get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    assert opt.iterations == 1
    # and the next good step is the one that would have happened
    opt.apply_gradients(zip(grads, params))
    assert opt.iterations == 2


def test_failing_constraint_on_first_step_leaves_optimizer_unbuilt():
    params = _params()
    before = [p.copy() for p in params]
    opt = optimizers.SGD(lr=1.0)
    with pytest.raises(ValueError):
        opt.apply_gradients(
            zip([np.ones_like(p) for p in params], params),
            constraints=[lambda w: w.ravel(), None],
        )
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p, b)
    assert opt.iterations == 0


# ---- names and configs -----------------------------------------------------------------
def test_aliases_are_keras_ones():
    assert constraints.max_norm is constraints.MaxNorm is constraints.maxnorm
    assert constraints.non_neg is constraints.NonNeg is constraints.nonneg
    assert constraints.unit_norm is constraints.UnitNorm is constraints.unitnorm
    assert constraints.min_max_norm is constraints.MinMaxNorm


@pytest.mark.parametrize(
    "c",
    [
        constraints.MaxNorm(3, axis=1),
        constraints.NonNeg(),
        constraints.UnitNorm(axis=None),
        constraints.MinMaxNorm(0.5, 2.0, 0.5, axis=[0, 1]),
    ],
)
def test_serialize_round_trip_through_json(c):
    config = json.loads(json.dumps(constraints.serialize(c)))
    assert config["class_name"] == type(c).__name__
    again = constraints.deserialize(config)
    assert type(again) is type(c) and again.get_config() == c.get_config()
    assert constraints.get(config).get_config() == c.get_config()


def test_keras_config_of_max_norm():
    assert constraints.serialize(constraints.max_norm(2)) == {
        "class_name": "MaxNorm",
        "config": {"max_value": 2.0, "axis": 0},
    }
    assert constraints.MinMaxNorm().get_config() == {
        "min_value": 0.0,
        "max_value": 1.0,
        "rate": 1.0,
        "axis": 0,
    }


def test_get_accepts_names_classes_callables_and_none():
    assert constraints.get(None) is None
    assert isinstance(constraints.get("max_norm"), constraints.MaxNorm)
    assert isinstance(constraints.get("NonNeg"), constraints.NonNeg)
    assert isinstance(constraints.get("unitnorm"), constraints.UnitNorm)
    assert isinstance(constraints.get(constraints.NonNeg), constraints.NonNeg)

    def clip(w):
        return np.clip(w, -1, 1)

    assert constraints.get(clip) is clip
    assert constraints.serialize(clip) == "clip"
    assert constraints.serialize(None) is None


def test_custom_constraint_through_custom_objects():
    class Halve(constraints.Constraint):
        def __call__(self, w):
            return w / 2

    got = constraints.deserialize(
        {"class_name": "Halve", "config": {}}, custom_objects={"Halve": Halve}
    )
    assert isinstance(got, Halve)


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: constraints.MaxNorm(-1), "max_value"),
        (lambda: constraints.MaxNorm("2"), "max_value"),
        (lambda: constraints.MaxNorm(2, axis="0"), "axis"),
        (lambda: constraints.MinMaxNorm(2.0, 1.0), "max_value must be >= min_value"),
        (lambda: constraints.MinMaxNorm(rate=float("nan")), "rate"),
        (lambda: constraints.get(3), "Could not interpret constraint identifier"),
        (lambda: constraints.get("nope"), "Unknown constraint: 'nope'. Known"),
        (lambda: constraints.deserialize({"config": {}}), "constraint config"),
        (
            lambda: constraints.deserialize(
                {"class_name": "MaxNorm", "config": {"bad": 1}}
            ),
            "Bad constraint config",
        ),
        (lambda: constraints.MaxNorm(axis=2)(np.ones((2, 2))), "out of range"),
    ],
)
def test_refusals_name_the_argument(make, words):
    with pytest.raises(ValueError) as info:
        make()
    assert words in str(info.value)


# ---- the framework wrappers take the same argument ------------------------------------
def test_torch_optimizer_wrapper_applies_constraints_and_set_value():
    torch = pytest.importorskip("torch")
    from gradstep.backend import set_value
    from gradstep.optimizers.native import TorchOptimizer

    opt = TorchOptimizer(torch.optim.SGD, lr=0.1)
    p = np.ones(3)
    opt.apply_gradients([(np.ones(3), p)], constraints=[constraints.MaxNorm(0.5)])
    np.testing.assert_allclose(p, constraints.MaxNorm(0.5)(np.full(3, 0.9)))
    set_value(opt.lr, 0.5)
    assert opt.lr == 0.5
    before = p.copy()
    with pytest.raises(ValueError, match="constraints has 2 entries for 1"):
        opt.apply_gradients([(np.ones(3), p)], constraints=[None, None])
    np.testing.assert_array_equal(p, before)
    with pytest.raises(ValueError, match="returned shape"):
        opt.apply_gradients([(np.ones(3), p)], constraints=[lambda w: w[:1]])
    np.testing.assert_array_equal(p, before)  # parameters restored


def test_optax_optimizer_wrapper_applies_constraints():
    optax = pytest.importorskip("optax")
    from gradstep.optimizers import OptaxOptimizer

    w = np.array([1.0, -1.0], dtype=np.float32)
    opt = OptaxOptimizer(optax.sgd(0.1))
    opt.apply_gradients(
        [(np.array([0.5, -2.0], np.float32), w)], [constraints.NonNeg()]
    )
    np.testing.assert_allclose(w, [0.95, 0.0])


def test_readme_constraints_example_runs(tmp_path):
    """The README's first optimizer example, then its constraints example, as written."""
    import runpy
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    codes = [b.split("```")[0] for b in readme.split("```python\n")[1:]]
    first = next(c for c in codes if "opt.apply_gradients(zip(grads, params))" in c)
    example = next(c for c in codes if "constraints=[constraints.max_norm" in c)
    script = tmp_path / "readme_constraints.py"
    script.write_text(first + example)
    namespace = runpy.run_path(str(script), run_name="example")
    assert np.all(namespace["params"][1] >= 0)
    assert np.all(np.linalg.norm(namespace["params"][0], axis=0) <= 2.0)
