"""Odd inputs to the NumPy optimizers (issue 13): memory aliasing, arrays changed in
place between steps, hyperparameters that are not plain numbers, impossible states,
ndarray subclasses. Each case runs on both engines; whatever is refused is refused
before anything changes."""

from __future__ import annotations

import datetime
import warnings
from fractions import Fraction

import numpy as np
import pytest

from gradstep import optimizers
from gradstep.kernels import numba_available

ENGINES = ["reference"] + (["fused"] if numba_available() else [])


def _snapshot(opt, params):
    return [p.copy() for p in params], [w.copy() for w in opt.get_weights()]


def _assert_unchanged(opt, params, snapshot):
    before_params, before_weights = snapshot
    for a, b in zip(params, before_params):
        np.testing.assert_array_equal(a.ravel(), b.ravel())
    for a, b in zip(opt.get_weights(), before_weights):
        np.testing.assert_array_equal(a, b)


# ---- 2. memory aliasing --------------------------------------------------------------
def _aliased():
    buffer = np.ones(10)
    return {
        "same_memory_view": (lambda b: [b, b[...]]),
        "overlapping_slices": (lambda b: [b[:6], b[4:]]),
        "reshaped_view": (lambda b: [b[:4], b[:4].reshape(2, 2)]),
        "strided_over_contiguous": (lambda b: [b[::2], b[2:5]]),
    }, buffer


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "case",
    [
        "same_memory_view",
        "overlapping_slices",
        "reshaped_view",
        "strided_over_contiguous",
    ],
)
def test_parameters_sharing_memory_are_refused(engine, case):
    makers, buffer = _aliased()
    params = makers[case](buffer)
    opt = optimizers.SGD(lr=0.1, engine=engine)
    with pytest.raises(ValueError, match=r"parameters \d and \d share memory"):
        opt.apply_gradients([(np.ones_like(p), p) for p in params])
    np.testing.assert_array_equal(buffer, np.ones(10))
    assert opt.iterations == 0
    with pytest.raises(ValueError, match="share memory"):
        optimizers.SGD(engine=engine).build(params)


@pytest.mark.parametrize("engine", ENGINES)
def test_interleaved_views_that_share_no_element_are_accepted(engine):
    buffer = np.zeros(8)
    params = [buffer[::2], buffer[1::2], np.zeros(3)]
    opt = optimizers.SGD(lr=1.0, engine=engine)
    opt.apply_gradients(
        [(np.full(p.shape, float(i + 1)), p) for i, p in enumerate(params)]
    )
    np.testing.assert_array_equal(buffer, [-1, -2] * 4)


# ---- 3. arrays changed in place after steps on the same arrays -------------------------
def _stepped(engine, name="Adam"):
    params = [np.ones((2, 3)), np.ones(4), np.ones(4)]
    grads = [np.full(p.shape, 0.5) for p in params]
    opt = getattr(optimizers, name)(engine=engine)
    for _ in range(2):  # the second step takes the fast path for the same arrays
        opt.apply_gradients(zip(grads, params))
    return opt, params, grads


@pytest.mark.parametrize("engine", ENGINES)
def test_a_parameter_made_read_only_between_steps_is_refused(engine):
    opt, params, grads = _stepped(engine)
    snapshot = _snapshot(opt, params)
    params[2].flags.writeable = False
    with pytest.raises(ValueError, match="parameter 2 is read-only"):
        opt.apply_gradients(zip(grads, params))
    _assert_unchanged(opt, params, snapshot)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_gradient_reshaped_in_place_is_refused(engine):
    opt, params, grads = _stepped(engine)
    snapshot = _snapshot(opt, params)
    grads[1].shape = (2, 2)
    with pytest.raises(ValueError, match=r"gradient 1 has shape \(2, 2\)"):
        opt.apply_gradients(zip(grads, params))
    _assert_unchanged(opt, params, snapshot)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_parameter_reshaped_in_place_is_refused(engine):
    opt, params, grads = _stepped(engine)
    snapshot = _snapshot(opt, params)
    params[1].shape = (2, 2)
    grads[1].shape = (2, 2)
    with pytest.raises(ValueError, match="parameter 1 changed in place"):
        opt.apply_gradients(zip(grads, params))
    _assert_unchanged(opt, params, snapshot)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_parameter_reinterpreted_in_place_is_refused(engine):
    opt, params, grads = _stepped(engine)
    params[0].dtype = np.int64
    grads[0].dtype = np.int64
    with pytest.raises(TypeError, match="parameter 0 has dtype int64"):
        opt.apply_gradients(zip(grads, params))


def test_non_contiguous_gradients_refilled_in_place_give_the_reference_steps():
    """The same strided gradient arrays with new values at every step (their contiguous
    copies must be refilled): the fused engine equals the reference engine."""
    pytest.importorskip("numba")
    results = []
    for engine in ("reference", "fused"):
        rng = np.random.default_rng(0)
        params = [np.ones((4, 3)), np.ones(5), np.ones(7, np.float32)]
        buffers = [np.zeros((4, 6)), np.zeros(10), np.zeros(14, np.float32)]
        grads = [buffers[0][:, ::2], buffers[1][::2], buffers[2][::2]]
        opt = optimizers.Adam(lr=0.1, clipnorm=0.5, engine=engine)
        for _ in range(4):
            for b in buffers:
                b[...] = rng.normal(size=b.shape)
            opt.apply_gradients(zip(grads, params))
        results.append(params)
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-6 if a.dtype == np.float32 else 1e-14)


# ---- 4. hyperparameters --------------------------------------------------------------
@pytest.mark.parametrize(
    "value, stored",
    [
        (np.float32(0.5), 0.5),
        (np.float64(0.25), 0.25),
        (np.int64(1), 1.0),
        (Fraction(1, 4), 0.25),
    ],
)
def test_numbers_of_any_real_type_are_stored_as_python_floats(value, stored):
    opt = optimizers.Adam(lr=value, beta_1=value if value < 1 else 0.5, clipnorm=value)
    assert type(opt.lr) is float and opt.lr == stored
    assert type(opt.clipnorm) in (int, float) and opt.clipnorm == stored
    config = opt.get_config()
    assert all(type(v) in (int, float, bool) for v in config.values())


def test_flags_are_stored_as_python_bools():
    opt = optimizers.Adam(amsgrad=np.True_)
    assert opt.amsgrad is True
    sgd = optimizers.SGD(nesterov=np.int64(1))
    assert sgd.nesterov is True


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lr": 1 + 2j}, "lr must be a finite number >= 0, got"),
        ({"lr": 10**400}, "lr must be .* too large for a float"),
        ({"lr": "0.1"}, "lr must be"),
        ({"lr": np.array([0.1])}, "lr must be"),
        ({"lr": datetime.timedelta(1)}, "lr must be"),
        ({"decay": np.bool_(True)}, "decay must be"),
        ({"clipnorm": 10**400}, "clipnorm must be .* too large for a float"),
        ({"clipnorm": float("nan")}, "clipnorm must be"),
        ({"clipvalue": -1}, "clipvalue must be"),
        ({"clipvalue": "1"}, "clipvalue must be"),
        ({"amsgrad": "yes"}, "amsgrad must be True or False"),
        ({"amsgrad": 2}, "amsgrad must be True or False"),
    ],
)
def test_bad_hyperparameters_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optimizers.Adam(**kwargs)


@pytest.mark.parametrize(
    "attribute, value, message",
    [
        ("clipvalue", -1, "clipvalue must be"),
        ("clipnorm", float("nan"), "clipnorm must be"),
        ("clipnorm", 10**400, "too large for a float"),
        ("amsgrad", "yes", "amsgrad must be True or False"),
        ("amsgrad", True, "amsgrad cannot change once the optimizer is built"),
        ("lr", float("inf"), "lr must be"),
        ("beta_1", 1.0, r"beta_1 must be in \[0, 1\)"),
    ],
)
def test_assignments_between_steps_are_validated(attribute, value, message):
    params = [np.ones(3)]
    opt = optimizers.Adam()
    opt.apply_gradients([(np.ones(3), params[0])])
    before = getattr(opt, attribute)
    with pytest.raises(ValueError, match=message):
        setattr(opt, attribute, value)
    assert getattr(opt, attribute) == before
    opt.apply_gradients([(np.ones(3), params[0])])  # still steps


def test_clipping_switched_between_steps_takes_effect():
    p = np.zeros(2)
    opt = optimizers.SGD(lr=1.0)
    opt.apply_gradients([(np.array([3.0, 4.0]), p)])
    opt.clipnorm = np.float32(1.0)
    opt.apply_gradients([(np.array([3.0, 4.0]), p)])
    np.testing.assert_allclose(p, [-3.6, -4.8])
    assert type(opt.clipnorm) is float


def test_a_saved_model_holds_only_json_numbers(tmp_path):
    from gradstep.layers import Dense
    from gradstep.models import Sequential, load_model

    model = Sequential([Dense(2, input_shape=(3,))], seed=0)
    model.compile(
        optimizer=optimizers.Adam(amsgrad=np.True_, clipnorm=np.float32(1.0)),
        loss="mse",
    )
    model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    model.save(tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    assert loaded.optimizer.amsgrad is True and loaded.optimizer.clipnorm == 1.0


# ---- 5. state setters ------------------------------------------------------------------
def _nadam_weights():
    opt = optimizers.Nadam()
    p = np.ones(3)
    opt.apply_gradients([(np.ones(3), p)])
    return opt, p


@pytest.mark.parametrize(
    "index, value, message",
    [
        (0, np.array(2**63, dtype=np.uint64), "iterations must be an integer"),
        (0, np.array(1e300), "iterations must be an integer"),
        (0, np.array(-1), "iterations must be an integer"),
        (0, np.array(np.nan), "iterations must be an integer"),
        (1, np.array(np.nan), "m_schedule must be finite"),
        (1, np.array(1.5), r"m_schedule must be in \(0, 1\]"),
        (1, np.array(-0.5), r"m_schedule must be in \(0, 1\]"),
        (2, np.zeros(3, complex), "dtype complex128; expected real numbers"),
        (2, np.zeros(3, "m8[s]"), "dtype timedelta64"),
        (2, np.zeros(3, "U3"), "dtype <U3"),
    ],
)
def test_set_weights_refuses_impossible_values_and_changes_nothing(
    index, value, message
):
    opt, p = _nadam_weights()
    before = opt.get_weights()
    bad = list(before)
    bad[index] = value
    with pytest.raises(ValueError, match=message):
        opt.set_weights(bad)
    assert opt.iterations == 1
    for a, b in zip(opt.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_set_weights_of_an_empty_list_on_a_fresh_optimizer_is_nothing_to_set():
    opt = optimizers.Adam()
    opt.set_weights([])  # as Keras: no weights yet, nothing given
    assert opt.get_weights() == []


# ---- 6. ndarray subclasses --------------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
def test_matrix_parameters_are_stepped_element_by_element(engine):
    plain = np.array([[1.0, 2.0], [3.0, 4.0]])
    grad = np.array([[0.5, -1.0], [2.0, 0.25]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        matrix, matrix_grad = np.asmatrix(plain.copy()), np.asmatrix(grad)
    expected = plain.copy()
    for p, g in ((matrix, matrix_grad), (expected, grad)):
        opt = optimizers.Adam(lr=0.1, engine=engine)
        for _ in range(3):
            opt.apply_gradients([(g, p)])
    assert type(matrix) is np.matrix
    np.testing.assert_array_equal(np.asarray(matrix), expected)


@pytest.mark.parametrize("engine", ENGINES)
def test_masked_parameters_are_stepped_as_their_plain_data(engine):
    data = np.array([1.0, 2.0, 3.0])
    masked = np.ma.masked_array(data.copy(), mask=[False, True, False])
    expected = data.copy()
    for p in (masked, expected):
        opt = optimizers.RMSprop(lr=0.1, engine=engine)
        for _ in range(2):
            opt.apply_gradients([(np.array([0.5, 0.5, -1.0]), p)])
    np.testing.assert_array_equal(masked.data, expected)
