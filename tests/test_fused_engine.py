"""The fused engine gives the reference engine's results.

Bitwise, params and every slot, on each golden case and on random float32/float64 data
over 25 steps, in both layouts (separate arrays: one multi-tensor kernel call; flat
buffers: one kernel over the span). The one stated exception: clipnorm's global norm,
which the fused engine sums per tensor in fixed blocks (``sum_of_squares`` of each
gradient); that sum is checked against NumPy's dot product within (n - 1) * 2**-53
relative, and the steps are compared with the reference given that norm, bit for bit.
"""

from __future__ import annotations

import ctypes.util
import math
import subprocess
import sys

import numpy as np
import pytest

from gradstep import optimizers
from gradstep.kernels import flatten, select_engine
from gradstep.kernels.clip import squared_norms

from ._golden import golden_files, load_case
from ._threads import numba_layer_after
from .cases import all_configs, config_ids, optimizer_class

numba = pytest.importorskip("numba")

from gradstep.kernels import _numba_kernels, fused, reference  # noqa: E402

CASES = golden_files()

# Every rule of every registered optimizer, with decay and both clip kinds exercised.
CONFIGS = all_configs()
IDS = config_ids(CONFIGS)


def _shapes():
    # One tensor above fused.SERIAL_BELOW, so both the threaded and the calling-thread
    # kernels are compared in every layout.
    return [(7, 5), (13,), (181, 183), (3, 4, 2), (1,), (64,)]


def _grads(rng, shapes, dtype, scale=1.0):
    return [(rng.standard_normal(s) * scale).astype(dtype) for s in shapes]


def _run_pair(name, config, dtype, flat, steps=25, seed=0):
    """Both engines on the same data; returns (fused opt, params), (reference, params)."""
    rng = np.random.default_rng(seed)
    shapes = _shapes()
    start = [rng.standard_normal(s).astype(dtype) for s in shapes]
    fused_params = flatten(start)[1] if flat else [p.copy() for p in start]
    ref_params = [p.copy() for p in start]
    fused_opt = optimizer_class(name)(engine="fused", **config)
    ref_opt = optimizer_class(name)(engine="reference", **config)
    for step in range(steps):
        grads = _grads(rng, shapes, dtype, scale=2.0 if step % 3 else 0.3)
        fused_grads = flatten(grads)[1] if flat else grads
        fused_opt.apply_gradients(zip(fused_grads, fused_params))
        ref_opt.apply_gradients(zip(grads, ref_params))
        _assert_same_state(
            fused_opt, fused_params, ref_opt, ref_params, f"step {step + 1}"
        )
    return fused_opt, ref_opt


def _assert_same_state(opt_a, params_a, opt_b, params_b, where):
    for i, (a, b) in enumerate(zip(params_a, params_b)):
        assert a.dtype == b.dtype, f"{where}: param {i} dtype"
        np.testing.assert_array_equal(a, b, err_msg=f"{where}: param {i}", strict=True)
    for i, (a, b) in enumerate(zip(opt_a.get_weights(), opt_b.get_weights())):
        np.testing.assert_array_equal(a, b, err_msg=f"{where}: weight {i}", strict=True)


@pytest.fixture
def fused_norm_in_reference(monkeypatch):
    """The reference engine with the fused engine's clipnorm sum (checked on its own
    below), so that every step must match bit for bit."""
    monkeypatch.setattr(reference.ReferenceEngine, "squares", _fused_squares)


def _fused_squares(self, grads):
    squares = []
    for g in grads:
        if g.dtype == np.float16:  # numba does not compute in float16
            (square,) = squared_norms([g])
        else:
            square = _numba_kernels.sum_of_squares(np.ascontiguousarray(g).reshape(-1))
        squares.append(square)
    return squares


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "config"), CONFIGS, ids=IDS)
def test_random_data_bitwise_separate_arrays(
    name, config, dtype, fused_norm_in_reference
):
    _run_pair(name, config, dtype, flat=False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "config"), CONFIGS, ids=IDS)
def test_random_data_bitwise_flat_buffers(name, config, dtype, fused_norm_in_reference):
    _run_pair(name, config, dtype, flat=True)


# Per-tensor clipping (tf_keras, Keras 3) happens before the engine; the engines must
# still agree, and a float32 gradient stays float32 (it was promoted to float64 once,
# which the two engines then stepped differently).
PER_TENSOR = [
    (name, {"flavour": flavour, "lr": 0.01, **clipping})
    for name in ("SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "Adamax", "Nadam")
    for flavour, clipping in (
        ("tf_keras", {"clipnorm": 0.3, "clipvalue": 0.5}),
        ("keras3", {"clipnorm": 0.3}),
    )
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("name", "config"), PER_TENSOR, ids=[f"{n}-{c['flavour']}" for n, c in PER_TENSOR]
)
def test_per_tensor_clipping_bitwise(name, config, dtype):
    _run_pair(name, config, dtype, flat=False, steps=6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_squares_are_each_gradients_own_sum_in_any_layout(dtype):
    """Per tensor, ``sum_of_squares`` of its elements, bit for bit, whether the
    gradients are separate, one buffer, or a multi-tensor group (sizes around the
    block boundary)."""
    rng = np.random.default_rng(3)
    shapes = [(0,), (1,), (16383,), (16384,), (16385,), (40000,), (3, 7)]
    grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
    want = [_numba_kernels.sum_of_squares(g.reshape(-1)) for g in grads]
    engine = fused.FusedEngine()
    assert engine.squares(grads) == want
    assert engine.squares([g.T for g in grads]) == [  # non-contiguous: copied
        _numba_kernels.sum_of_squares(np.ascontiguousarray(g.T).reshape(-1))
        for g in grads
    ]
    flat_params = flatten([np.zeros(s, dtype) for s in shapes])[1]
    flat_grads = flatten(grads)[1]
    engine._grads.span_of(flat_grads)
    assert engine._grads.squares() == want
    slots = engine.allocate_slots(flat_params, 1)
    groups = engine._tables.groups(
        [p.copy() for p in flat_params], slots, fused._COMPILED
    )
    tables = engine._tables.grads(grads)
    assert engine._grouped_squares(grads, groups, tables) == want
    half = [g.astype(np.float16) for g in grads]
    assert engine.squares(half) == reference.ReferenceEngine().squares(half)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 7, 8, 1000, 70_001])
def test_flat_norm_within_the_summation_bound(n, dtype):
    rng = np.random.default_rng(n)
    g = (rng.standard_normal(n) * np.exp(rng.uniform(-8, 8, n))).astype(dtype)
    ours = _numba_kernels.sum_of_squares(g)
    ref = float(np.dot(g.astype(np.float64), g.astype(np.float64)))
    # Squares of float32 are exact in float64; any summation order of n non-negative
    # terms is within (n - 1) * u of the exact sum, so two orders differ by at most twice.
    assert abs(ours - ref) <= 2 * max(n - 1, 0) * 2.0**-53 * ref * (1 + 1e-9)


def test_flat_norm_does_not_depend_on_thread_count():
    g = np.random.default_rng(1).standard_normal(300_001).astype(np.float32)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _numba_kernels.sum_of_squares(g)
        numba.set_num_threads(before)
        many = _numba_kernels.sum_of_squares(g)
    finally:
        numba.set_num_threads(before)
    assert one == many


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
@pytest.mark.parametrize("flat", [False, True], ids=["separate", "flat"])
def test_golden_case(path, flat, fused_norm_in_reference):
    """rel 1e-10 to the golden trajectory; bitwise to the reference engine (given the
    fused engine's norm)."""
    case = load_case(path)
    fused_opt, ref_opt = (
        optimizers.get(
            {"class_name": case["optimizer"], "config": {**case["config"], "engine": e}}
        )
        for e in ("fused", "reference")
    )
    params = flatten(case["params"])[1] if flat else [p.copy() for p in case["params"]]
    ref_params = [p.copy() for p in case["params"]]
    for step, (grads, expected) in enumerate(zip(case["grads"], case["expected"])):
        fused_opt.apply_gradients(zip(flatten(grads)[1] if flat else grads, params))
        ref_opt.apply_gradients(zip(grads, ref_params))
        for i, (actual, want) in enumerate(zip(params, expected)):
            np.testing.assert_allclose(
                actual, want, rtol=1e-10, atol=0, err_msg=f"step {step + 1}, param {i}"
            )
        _assert_same_state(fused_opt, params, ref_opt, ref_params, f"step {step + 1}")


def test_shapes_cover_both_kernel_variants():
    sizes = [math.prod(s) for s in _shapes()]
    assert min(sizes) < fused.SERIAL_BELOW <= max(sizes)


def test_flat_layout_is_one_kernel_call_per_step(monkeypatch):
    calls = []
    real = fused._run
    monkeypatch.setattr(fused, "_run", lambda *a: (calls.append(a[1].size), real(*a)))
    rng = np.random.default_rng(0)
    _, params = flatten([rng.standard_normal(s) for s in _shapes()])
    _, grads = flatten([rng.standard_normal(s) for s in _shapes()])
    opt = optimizers.Adam(engine="fused", clipnorm=1.0)
    opt.apply_gradients(zip(grads, params))
    opt.apply_gradients(zip(grads, params))
    assert calls == [sum(p.size for p in params)] * 2
    calls.clear()
    multi_calls = []
    real_kernel = fused._kernel

    def recording_multi(*args, multi=False, **kwargs):
        kernel = real_kernel(*args, multi=multi, **kwargs)
        if not multi:
            return kernel
        return lambda *a: (multi_calls.append(a[4][:, 0].tolist()), kernel(*a))

    monkeypatch.setattr(fused, "_kernel", recording_multi)
    separate = [p.copy() for p in params]
    optimizers.Adam(engine="fused").apply_gradients(zip(grads, separate))
    assert calls == []  # no per-tensor calls: one multi-tensor call over every tensor
    assert len(multi_calls) == 1
    assert sorted(set(multi_calls[0])) == list(range(len(separate)))


def _odd_layouts(rng):
    """Transposed, strided, Fortran-ordered and 0-d parameters, of three dtypes."""
    base = rng.standard_normal((6, 8))
    return [
        base.astype(np.float32).T,  # transposed view of a C array
        np.asfortranarray(rng.standard_normal((4, 5))),
        rng.standard_normal(20).astype(np.float32)[::3],  # strided view
        np.array(0.5),  # 0-d
        rng.standard_normal((3, 2)).astype(np.float16),  # via the reference code
        rng.standard_normal((5, 1, 3))[:, :, ::2],
    ]


@pytest.mark.parametrize("config", [{}, {"clipnorm": 0.5, "clipvalue": 0.2}])
def test_strided_mixed_dtype_params(config, fused_norm_in_reference):
    rng = np.random.default_rng(3)
    params = _odd_layouts(rng)
    ref_params = [p.copy(order="K") for p in params]
    fused_opt = optimizers.Adam(engine="fused", amsgrad=True, lr=0.01, **config)
    ref_opt = optimizers.Adam(engine="reference", amsgrad=True, lr=0.01, **config)
    for step in range(21):
        grads = [rng.standard_normal(p.shape).astype(p.dtype) for p in params]
        fused_opt.apply_gradients(zip(grads, params))
        ref_opt.apply_gradients(zip(grads, ref_params))
        _assert_same_state(fused_opt, params, ref_opt, ref_params, f"step {step + 1}")
    assert [p.dtype for p in params] == [p.dtype for p in _odd_layouts(rng)]


def test_non_finite_gradients_propagate_like_the_reference():
    g = np.array([np.nan, np.inf, -np.inf, 1.0, -0.0], dtype=np.float32)
    for name, config in CONFIGS:
        p_fused = np.linspace(-1, 1, 5).astype(np.float32)
        p_ref = p_fused.copy()
        fused_opt = optimizer_class(name)(engine="fused", **config)
        ref_opt = optimizer_class(name)(engine="reference", **config)
        with np.errstate(all="ignore"):
            for _ in range(2):
                fused_opt.apply_gradients([(g, p_fused)])
                ref_opt.apply_gradients([(g, p_ref)])
        _assert_same_state(fused_opt, [p_fused], ref_opt, [p_ref], name)


def _uncompilable_helper(x):
    return x  # a plain Python function: numba cannot call it from compiled code


def uncompilable_rule(p, g, m, c):
    m = c.momentum * m + _uncompilable_helper(g)
    return p - c.lr * m, m


def test_rule_numba_cannot_compile_runs_on_numpy():
    class Odd(optimizers.SGD):
        rule = staticmethod(uncompilable_rule)

    p_fused, p_ref = np.ones(4), np.ones(4)
    fused_opt = Odd(momentum=0.5, engine="fused")
    ref_opt = Odd(momentum=0.5, engine="reference")
    for _ in range(3):
        fused_opt.apply_gradients([(np.arange(4.0), p_fused)])
        ref_opt.apply_gradients([(np.arange(4.0), p_ref)])
    _assert_same_state(fused_opt, [p_fused], ref_opt, [p_ref], "fallback")
    assert p_fused[1] != 1.0


def test_select_engine_prefers_fused_and_explains_missing_numba(monkeypatch):
    assert select_engine(None).name == "fused"
    assert optimizers.Adam().engine == "fused"
    monkeypatch.setattr(fused, "numba_available", lambda: False)
    import gradstep.kernels as kernels

    monkeypatch.setattr(kernels, "numba_available", lambda: False)
    assert select_engine(None).name == "reference"
    with pytest.raises(ImportError, match=r"pip install -e \"\.\[fast\]\""):
        select_engine("fused")
    assert "engine" not in optimizers.Adam(engine="reference").get_config()


def test_import_and_construction_do_not_import_numba():
    code = (
        "import sys, gradstep; from gradstep import optimizers; "
        "optimizers.Adam(); optimizers.SGD(engine='fused'); "
        "assert 'numba' not in sys.modules, 'numba imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_threading_setup_leaves_the_environment_alone():
    code = (
        "import os, numpy as np; from gradstep import optimizers; "
        "p = np.ones(3); optimizers.Adam(engine='fused').apply_gradients([(p, p)]); "
        "import numba; assert numba.threading_layer() in ('omp', 'tbb', 'workqueue'); "
        "assert 'OMP_WAIT_POLICY' not in os.environ"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "OMP_WAIT_POLICY"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


@pytest.mark.skipif(
    ctypes.util.find_library("gomp") is None, reason="no GNU OpenMP runtime here"
)
@pytest.mark.parametrize("preload", [False, True])
def test_workers_sleep_when_openmp_was_loaded_first(preload):
    """libgomp loaded before gradstep (as ``import torch`` does) has read its wait
    policy already: numba's layer is then one whose workers sleep."""
    layer = numba_layer_after(
        "import ctypes, ctypes.util, numpy as np\n"
        f"if {preload}: ctypes.CDLL(ctypes.util.find_library('gomp'))\n"
        "from gradstep import optimizers\n"
        "p = np.ones(3)\n"
        "optimizers.Adam(engine='fused').apply_gradients([(p, p)])\n"
    )
    if preload:
        assert layer in ("tbb", "workqueue")
    else:
        assert layer in ("tbb", "omp")


def test_only_gradstep_rules_share_the_disk_cache():
    from gradstep.optimizers.adam import AdamCoefficients, adam_rule
    from gradstep.optimizers.sgd import SGDCoefficients

    assert _numba_kernels.cacheable(adam_rule, AdamCoefficients)
    assert not _numba_kernels.cacheable(uncompilable_rule, SGDCoefficients)
    assert not _numba_kernels.cacheable(adam_rule, tuple)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "config"), CONFIGS, ids=IDS)
def test_kernel_without_clipping_equals_clipping_by_nothing(name, config, dtype):
    """Optimizers that never clip get kernels without ``clip_element``: the same bits
    as clipping with scale 1 and clipvalue inf, NaN, infinities and -0.0 included."""
    opt = optimizer_class(name)(**config)
    scalars = {k: float(v) for k, v in opt.scalar_state.items()}
    typed = fused._typed(
        opt.coefficients(3, opt.decayed_lr(), scalars), np.dtype(dtype)
    )
    count = len(opt.slot_names())
    rng = np.random.default_rng(7)
    g = rng.standard_normal(4000).astype(dtype)
    g[:5] = [np.nan, np.inf, -np.inf, -0.0, 0.0]
    start = [rng.standard_normal(4000).astype(dtype) for _ in range(1 + count)]
    results = []
    for clip in (True, False):
        kernel = fused._kernel(opt.rule, typed, np.dtype(dtype), count, clip=clip)
        p, *s = [a.copy() for a in start]
        s = [np.abs(x) for x in s]  # accumulators are non-negative
        with np.errstate(all="ignore"):
            kernel(p, g, tuple(s), typed, dtype(1.0), dtype(np.inf))
        results.append([p, *s])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))
