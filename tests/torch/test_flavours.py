"""gradstep.torch with ``flavour=``: the golden trajectories of every framework, torch.optim
itself, clipping per framework, knobs, slot starts, groups and state dicts."""

from __future__ import annotations

import glob
import json
import os
import pickle
from copy import deepcopy

import numpy as np
import pytest
import torch

import gradstep.torch as gtorch
from gradstep import optimizers

from ._util import grad_sequence, make_params, set_grads

GOLDEN = os.path.join(os.path.dirname(__file__), "..", "golden", "flavours")
FILES = sorted(glob.glob(os.path.join(GOLDEN, "*", "*.json")))
SHAPES = [(3,), (2, 2), (4, 1)]


def _case_id(path: str) -> str:
    return "/".join(path.split(os.sep)[-2:])


def _load(path: str) -> dict:
    with open(path) as handle:
        return json.load(handle)


def _rel(actual: np.ndarray, expected: np.ndarray, floor: float = 0.0) -> float:
    expected = np.asarray(expected, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    denominator = np.maximum(np.abs(expected), floor)
    return float(np.max(np.abs(actual - expected) / denominator))


def _replay(case: dict, dtype: torch.dtype, engine: str | None, floor: float = 0.0):
    """The worst relative error of a golden case run through gradstep.torch."""
    params = [torch.nn.Parameter(torch.tensor(p, dtype=dtype)) for p in case["params"]]
    opt = getattr(gtorch, case["optimizer"])(
        params, flavour=case["flavour"], engine=engine, **case["config"]
    )
    assert opt.flavour == case["flavour"]
    worst = 0.0
    for step, grads in enumerate(case["grads"]):
        users = [torch.tensor(g, dtype=dtype) for g in grads]
        copies = [g.clone() for g in users]
        for p, g in zip(params, users):
            p.grad = g
        opt.step()
        for g, copy in zip(users, copies):  # per-tensor clipping leaves them alone
            assert torch.equal(g, copy)
        for p, expected in zip(params, case["expected"][step]):
            worst = max(worst, _rel(p.detach().numpy(), expected, floor))
    return worst


# ---- every golden file, float64 ----------------------------------------------------
def test_every_flavour_has_golden_files():
    flavours = {_load(path)["flavour"] for path in FILES}
    assert flavours == {"tf_keras", "keras3", "torch", "optax"}
    assert len(FILES) >= 144


@pytest.mark.parametrize("engine", [None, "torch"])
@pytest.mark.parametrize("path", FILES, ids=_case_id)
def test_golden_flavour_float64(path, engine, float64_default):
    """Float64 throughout, as the torch files were made (torch's default dtype float64,
    so NAdam's mu_product is float64: tests/golden/flavours/torch/NOTES.md)."""
    case = _load(path)
    assert case["dtype"] == "float64"
    assert len(case["grads"]) == len(case["expected"]) == 15
    assert _replay(case, torch.float64, engine) <= 1e-10


# ---- a few in float32, against the float64 numbers ---------------------------------
FLOAT32_CASES = [
    "tf_keras/adam_amsgrad_clipvalue_global_clipnorm.json",
    "tf_keras/nadam_clipnorm_clipvalue.json",
    "keras3/adagrad_clipnorm.json",
    "keras3/rmsprop_centered_momentum.json",
    "torch/adagrad_initial_accumulator.json",
    "torch/rmsprop_centered_momentum.json",
    "torch/sgd_dampening.json",
    "optax/nadam_clipnorm.json",
    "optax/adam_amsgrad_betas_epsilon.json",
]


@pytest.mark.parametrize("engine", [None, "torch"])
@pytest.mark.parametrize("name", FLOAT32_CASES)
def test_golden_flavour_float32(name, engine):
    case = _load(os.path.join(GOLDEN, *name.split("/")))
    # float32 rounding over 15 steps; relative to max(|expected|, 1e-3)
    assert _replay(case, torch.float32, engine, floor=1e-3) <= 1e-5


# ---- flavour="torch" against torch.optim itself --------------------------------------
TORCH_OPTIM = [
    ("Adam", "Adam", {"lr": 0.01, "betas": (0.8, 0.95), "eps": 1e-7}),
    ("Adam", "Adam", {"lr": 0.01, "amsgrad": True}),
    (
        "SGD",
        "SGD",
        {"lr": 0.05, "momentum": 0.8, "dampening": 0.3},
    ),
    ("SGD", "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    (
        "RMSprop",
        "RMSprop",
        {"lr": 0.003, "alpha": 0.95, "eps": 1e-6, "momentum": 0.7, "centered": True},
    ),
    ("RMSprop", "RMSprop", {"lr": 0.003}),
    (
        "Adagrad",
        "Adagrad",
        {"lr": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-8},
    ),
    ("Adagrad", "Adagrad", {"lr": 0.1, "lr_decay": 0.2}),
    ("Nadam", "NAdam", {"lr": 0.01, "betas": (0.85, 0.99), "momentum_decay": 0.01}),
    ("Nadam", "NAdam", {}),
    ("Adamax", "Adamax", {"lr": 0.01, "betas": (0.8, 0.95), "eps": 1e-6}),
    ("Adadelta", "Adadelta", {"lr": 0.5, "rho": 0.95, "eps": 1e-5}),
    ("Adadelta", "Adadelta", {}),
]


def _pairs(kwargs, seed=0):
    ours = make_params(SHAPES, torch.float64, seed=seed)
    theirs = [torch.nn.Parameter(p.detach().clone()) for p in ours]
    return ours, theirs


@pytest.mark.parametrize("engine", [None, "torch"])
@pytest.mark.parametrize(
    "name, torch_name, kwargs",
    TORCH_OPTIM,
    ids=[f"{t}-{'-'.join(k) or 'default'}" for _, t, k in TORCH_OPTIM],
)
def test_torch_flavour_matches_torch_optim(
    name, torch_name, kwargs, engine, float64_default
):
    ours, theirs = _pairs(kwargs)
    opt = getattr(gtorch, name)(ours, flavour="torch", engine=engine, **kwargs)
    reference = getattr(torch.optim, torch_name)(theirs, **kwargs)
    worst = 0.0
    for grads in grad_sequence(SHAPES, 20, torch.float64, seed=3):
        set_grads(ours, grads)
        set_grads(theirs, grads)
        opt.step()
        reference.step()
        for a, b in zip(ours, theirs):
            worst = max(worst, _rel(a.detach().numpy(), b.detach().numpy()))
    assert worst <= 1e-10


@pytest.mark.parametrize("engine", [None, "reference", "torch"])
@pytest.mark.parametrize("default_dtype", [torch.float32, torch.float64])
def test_torch_nadam_keeps_mu_product_in_torchs_scalar_dtype(engine, default_dtype):
    """torch.optim.NAdam keeps ``mu_product`` in float32 unless torch's default dtype
    is float64, and its loader casts it to the parameter's dtype: gradstep.torch with
    flavour="torch" holds ``m_schedule`` so too and advances it in that precision (with
    float64 parameters: 1e-8 relative differences in the update otherwise). Parameter
    1 skips steps (two counts); a state dict round trip midway on both sides."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(default_dtype)
    try:
        ours, theirs = _pairs({})
        kwargs = {"lr": 0.01, "momentum_decay": 0.01}
        opt = gtorch.Nadam(ours, flavour="torch", engine=engine, **kwargs)
        reference = torch.optim.NAdam(theirs, **kwargs)
        worst = 0.0
        for step, grads in enumerate(grad_sequence(SHAPES, 24, torch.float64, seed=6)):
            set_grads(ours, grads)
            set_grads(theirs, grads)
            if step % 5 == 2:
                ours[1].grad = theirs[1].grad = None
            if step == 12:
                opt.load_state_dict(deepcopy(opt.state_dict()))
                reference.load_state_dict(deepcopy(reference.state_dict()))
            opt.step()
            reference.step()
            for a, b in zip(ours, theirs):
                worst = max(worst, _rel(a.detach().numpy(), b.detach().numpy()))
                held, kept = (
                    opt.state[a]["m_schedule"],
                    reference.state[b]["mu_product"],
                )
                assert held.dtype == kept.dtype
                assert held.item() == kept.item()
            if step == 0:
                assert opt.state[ours[0]]["m_schedule"].dtype == (
                    torch.float64 if default_dtype == torch.float64 else torch.float32
                )
        assert worst <= 1e-12
        # torch's loader cast it to the (float64) parameters' dtype
        assert opt.state[ours[0]]["m_schedule"].dtype == torch.float64
    finally:
        torch.set_default_dtype(before)


@pytest.mark.parametrize("engine", [None, "torch"])
@pytest.mark.parametrize("clipnorm", [0.5, 100.0])
def test_torch_flavour_clipnorm_is_clip_grad_norm(clipnorm, engine, float64_default):
    ours, theirs = _pairs({})
    opt = gtorch.Adam(ours, flavour="torch", lr=0.01, clipnorm=clipnorm, engine=engine)
    reference = torch.optim.Adam(theirs, lr=0.01)
    worst = 0.0
    for grads in grad_sequence(SHAPES, 20, torch.float64, seed=4):
        set_grads(ours, grads)
        set_grads(theirs, grads)
        opt.step()
        torch.nn.utils.clip_grad_norm_(theirs, clipnorm)
        reference.step()
        for a, b in zip(ours, theirs):
            worst = max(worst, _rel(a.detach().numpy(), b.detach().numpy()))
    assert worst <= 1e-10
    # the factor is clipnorm / (norm + 1e-6): not Keras 2.2's clipnorm / norm
    assert opt.clippings()[1].norm_epsilon == 1e-6


def test_torch_flavour_clipnorm_then_clipvalue(float64_default):
    ours, theirs = _pairs({})
    opt = gtorch.SGD(
        ours, flavour="torch", lr=0.1, momentum=0.9, clipnorm=1.0, clipvalue=0.2
    )
    reference = torch.optim.SGD(theirs, lr=0.1, momentum=0.9)
    for grads in grad_sequence(SHAPES, 20, torch.float64, seed=5):
        set_grads(ours, grads)
        set_grads(theirs, grads)
        opt.step()
        torch.nn.utils.clip_grad_norm_(theirs, 1.0)
        torch.nn.utils.clip_grad_value_(theirs, 0.2)
        reference.step()
        for a, b in zip(ours, theirs):
            assert _rel(a.detach().numpy(), b.detach().numpy()) <= 1e-10


# ---- the torch front end against the NumPy core, per flavour -------------------------
FRONT_END_CASES = [
    ("tf_keras", "Adam", {"lr": 0.01, "clipnorm": 0.3, "clipvalue": 0.2}),
    ("tf_keras", "RMSprop", {"lr": 0.01, "global_clipnorm": 0.5, "clipvalue": 0.3}),
    ("tf_keras", "Adagrad", {"lr": 0.1, "clipnorm": 0.4, "global_clipnorm": 0.0}),
    ("keras3", "Nadam", {"lr": 0.01, "clipnorm": 0.3}),
    ("keras3", "SGD", {"lr": 0.1, "momentum": 0.9, "global_clipnorm": 0.5}),
    ("keras3", "Adamax", {"lr": 0.01, "clipvalue": 0.1}),
    ("torch", "RMSprop", {"lr": 0.01, "centered": True, "clipnorm": 0.5}),
    ("torch", "SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
    ("optax", "Adadelta", {"lr": 1.0, "clipnorm": 0.5, "clipvalue": 0.1}),
    ("optax", "Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.3}),
    ("keras22", "Adam", {"lr": 0.01, "clipnorm": 0.5}),
]


@pytest.mark.parametrize("flatten_params", [False, True])
@pytest.mark.parametrize("engine", [None, "reference", "torch"])
@pytest.mark.parametrize(
    "flavour, name, config",
    FRONT_END_CASES,
    ids=[f"{f}-{n}-{'-'.join(c)}" for f, n, c in FRONT_END_CASES],
)
def test_front_end_matches_numpy_core(flavour, name, config, engine, flatten_params):
    """Two param groups (one float32, one float64 parameter list), against the NumPy
    optimizer of the same flavour stepping the same values."""
    ours = make_params(SHAPES, torch.float64, seed=7)
    numpy_params = [p.detach().numpy().copy() for p in ours]
    opt = getattr(gtorch, name)(
        [{"params": ours[:2]}, {"params": ours[2:]}],
        flavour=flavour,
        engine=engine,
        flatten_params=flatten_params,
        **config,
    )
    core = getattr(optimizers, name)(flavour=flavour, **config)
    for grads in grad_sequence(SHAPES, 8, torch.float64, seed=8):
        users = [g.clone() for g in grads]
        for p, g in zip(ours, users):
            p.grad = g
        opt.step()
        for g, original in zip(users, grads):
            assert torch.equal(g, original)  # the user's gradients are not clipped
        core.apply_gradients(zip([g.numpy() for g in grads], numpy_params))
        for a, b in zip(ours, numpy_params):
            assert _rel(a.detach().numpy(), b) <= 1e-12


def test_preclipping_leaves_user_gradients_and_grad_objects():
    p = make_params(SHAPES, torch.float64)
    opt = gtorch.Adam(p, flavour="keras3", clipnorm=0.01)
    grads = grad_sequence(SHAPES, 1, torch.float64)[0]
    for q, g in zip(p, grads):
        q.grad = g
    opt.step()
    for q, g in zip(p, grads):
        assert q.grad is g


# ---- knobs and defaults ------------------------------------------------------------
def test_flavour_defaults_and_knobs_live_in_groups():
    p = make_params(SHAPES)
    opt = gtorch.RMSprop(p, flavour="torch", momentum=0.5, centered=True)
    group = opt.param_groups[0]
    assert group["flavour"] == "torch" and opt.defaults["flavour"] == "torch"
    assert group["momentum"] == 0.5 and group["centered"] is True
    assert group["lr"] == 0.01 and group["rho"] == 0.99 and group["epsilon"] == 1e-8
    assert group["global_clipnorm"] is None
    opt.add_param_group({"params": make_params([(2,)]), "momentum": 0.1})
    assert opt.param_groups[1]["momentum"] == 0.1
    assert opt.param_groups[1]["flavour"] == "torch"
    keras22 = gtorch.RMSprop(make_params(SHAPES))
    assert keras22.defaults["flavour"] == "keras22"
    assert "momentum" not in keras22.defaults and "centered" not in keras22.defaults


def test_sgd_dampening_and_adagrad_names():
    p = make_params(SHAPES)
    sgd = gtorch.SGD(p, flavour="torch", momentum=0.9, dampening=0.2)
    assert sgd.defaults["dampening"] == 0.2
    with pytest.raises(ValueError, match="dampening"):
        gtorch.SGD(p, momentum=0.9, dampening=0.2)
    with pytest.raises(ValueError, match="dampening"):
        gtorch.SGD(p).add_param_group({"params": make_params([(2,)]), "dampening": 1})
    # off values are accepted and dropped where the flavour has no such knob
    assert "dampening" not in gtorch.SGD(p, dampening=0.0).defaults
    ada = gtorch.Adagrad(p, flavour="torch", lr_decay=0.1, initial_accumulator_value=2)
    assert ada.defaults["decay"] == 0.1
    assert ada.defaults["initial_accumulator_value"] == 2
    assert "lr_decay" not in ada.defaults
    with pytest.raises(ValueError, match="lr_decay"):
        gtorch.Adam(p, lr_decay=0.1)
    with pytest.raises(ValueError, match="accumulators start at 0"):
        gtorch.Adagrad(p, initial_accumulator_value=0.1)
    assert gtorch.Adagrad(p, flavour="optax", lr=0.1).defaults[
        "initial_accumulator_value"
    ] == pytest.approx(0.1)


def test_nadam_momentum_decay_only_where_it_exists():
    p = make_params(SHAPES)
    torch_nadam = gtorch.Nadam(p, flavour="torch", momentum_decay=0.01)
    assert torch_nadam.defaults["schedule_decay"] == 0.01
    keras3 = gtorch.Nadam(p, flavour="keras3")
    assert "schedule_decay" not in keras3.defaults
    with pytest.raises(ValueError, match="schedule_decay"):
        gtorch.Nadam(p, flavour="keras3", momentum_decay=0.01)


def test_bad_flavours_and_clip_combinations():
    p = make_params(SHAPES)
    with pytest.raises(ValueError, match="Unknown flavour"):
        gtorch.Adam(p, flavour="jax")
    with pytest.raises(TypeError, match="needs lr"):
        gtorch.Adam(p, flavour="optax")
    with pytest.raises(ValueError, match="no global_clipnorm"):
        gtorch.Adam(p, global_clipnorm=1.0)
    with pytest.raises(ValueError, match="one way only"):
        gtorch.Adam(p, flavour="keras3", clipnorm=1.0, clipvalue=1.0)
    opt = gtorch.Adam(p, flavour="tf_keras", clipnorm=1.0)
    with pytest.raises(ValueError, match="not both"):
        opt.global_clipnorm = 2.0
    assert (
        opt.global_clipnorm is None and opt.param_groups[0]["global_clipnorm"] is None
    )
    with pytest.raises(ValueError, match="flavour='torch' differs"):
        opt.add_param_group({"params": make_params([(2,)]), "flavour": "torch"})
    with pytest.raises(ValueError, match="global_clipnorm"):
        opt.add_param_group({"params": make_params([(2,)]), "global_clipnorm": 3.0})


def test_global_clipnorm_setter_reaches_the_step():
    p = make_params(SHAPES, torch.float64)
    q = [torch.nn.Parameter(x.detach().clone()) for x in p]
    opt = gtorch.SGD(p, flavour="keras3", lr=0.1)
    opt.global_clipnorm = 0.2
    assert opt.param_groups[0]["global_clipnorm"] == 0.2
    same = gtorch.SGD(q, flavour="keras3", lr=0.1, global_clipnorm=0.2)
    for grads in grad_sequence(SHAPES, 3, torch.float64):
        set_grads(p, grads)
        set_grads(q, grads)
        opt.step()
        same.step()
    for a, b in zip(p, q):
        assert torch.equal(a, b)


def test_tf_keras_epsilon_zero_means_its_default():
    p = make_params(SHAPES)
    opt = gtorch.Adam(p, flavour="tf_keras", epsilon=0)
    assert opt.defaults["epsilon"] == 1e-7
    opt.add_param_group({"params": make_params([(2,)]), "eps": 0.0})
    assert opt.param_groups[1]["epsilon"] == 1e-7
    keras22 = gtorch.Adam(p, epsilon=0)
    assert keras22.defaults["epsilon"] == 0


# ---- slot starts -------------------------------------------------------------------
@pytest.mark.parametrize(
    "dtype, engine",
    [
        (torch.float64, None),
        (torch.float32, "reference"),
        (torch.float64, "torch"),
        (torch.bfloat16, None),
    ],
)
def test_accumulator_starts_at_initial_accumulator_value(dtype, engine):
    p = make_params(SHAPES, dtype)
    opt = gtorch.Adagrad(p, flavour="keras3", engine=engine)
    set_grads(p, [torch.zeros_like(x) for x in p])
    opt.step()
    for x in p:
        accumulator = opt.state[x]["accumulator"]
        assert accumulator.dtype == (
            torch.float32 if dtype == torch.bfloat16 else dtype
        )
        assert torch.all(accumulator == torch.tensor(0.1, dtype=accumulator.dtype))
    # a parameter that gets its first gradient later starts there too
    late = make_params([(5,)], dtype, seed=3)
    opt.add_param_group({"params": late})
    set_grads(late, [torch.zeros_like(x) for x in late])
    opt.step()
    assert torch.all(
        opt.state[late[0]]["accumulator"]
        == torch.tensor(0.1, dtype=opt.state[late[0]]["accumulator"].dtype)
    )


# ---- state dicts -------------------------------------------------------------------
def _stepped(flavour="torch", steps=3, **config):
    p = make_params(SHAPES, torch.float64)
    opt = gtorch.RMSprop(p, flavour=flavour, **config)
    for grads in grad_sequence(SHAPES, steps, torch.float64):
        set_grads(p, grads)
        opt.step()
    return p, opt


def test_state_dict_round_trip_keeps_the_flavour():
    p, opt = _stepped(momentum=0.5, centered=True, clipnorm=0.5)
    saved = opt.state_dict()
    assert saved["param_groups"][0]["flavour"] == "torch"
    assert set(saved["state"][0]) >= {"accumulator", "mg", "momentum", "step"}
    q = [torch.nn.Parameter(x.detach().clone()) for x in p]
    fresh = gtorch.RMSprop(q, flavour="torch", momentum=0.5, centered=True)
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["flavour"] == "torch"
    assert fresh.clipnorm == 0.5
    for grads in grad_sequence(SHAPES, 4, torch.float64, seed=9):
        set_grads(p, grads)
        set_grads(q, grads)
        opt.step()
        fresh.step()
    for a, b in zip(p, q):
        assert torch.equal(a, b)


def test_state_dict_of_another_flavour_is_refused():
    _, opt = _stepped("torch")
    saved = opt.state_dict()
    other = gtorch.RMSprop(make_params(SHAPES, torch.float64), flavour="keras3")
    before = other.state_dict()
    with pytest.raises(ValueError, match="flavour='torch'.*flavour='keras3'"):
        other.load_state_dict(saved)
    assert other.state_dict() == before
    keras22 = gtorch.RMSprop(make_params(SHAPES, torch.float64))
    with pytest.raises(ValueError, match="flavour='torch'.*flavour='keras22'"):
        keras22.load_state_dict(saved)


def test_state_dict_without_flavour_is_keras22():
    _, opt = _stepped("keras22")
    saved = opt.state_dict()
    for group in saved["param_groups"]:
        del group["flavour"], group["global_clipnorm"]
    fresh = gtorch.RMSprop(make_params(SHAPES, torch.float64))
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["flavour"] == "keras22"
    assert fresh.param_groups[0]["global_clipnorm"] is None
    torch_flavour = gtorch.RMSprop(make_params(SHAPES, torch.float64), flavour="torch")
    with pytest.raises(ValueError, match="flavour='keras22'.*flavour='torch'"):
        torch_flavour.load_state_dict(saved)


def test_adagrad_state_dict_keeps_initial_accumulator_value():
    p = make_params(SHAPES, torch.float64)
    opt = gtorch.Adagrad(p, flavour="torch", initial_accumulator_value=0.25)
    set_grads(p, grad_sequence(SHAPES, 1, torch.float64)[0])
    opt.step()
    saved = opt.state_dict()
    assert saved["param_groups"][0]["initial_accumulator_value"] == 0.25
    fresh = gtorch.Adagrad(make_params(SHAPES, torch.float64), flavour="torch")
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["initial_accumulator_value"] == 0.25


def test_pickle_keeps_flavour_keys():
    _, opt = _stepped(momentum=0.5, centered=True)
    clone = pickle.loads(pickle.dumps(opt))
    assert clone.config_keys == opt.config_keys
    assert "centered" in clone.config_keys
    assert clone.flavour == "torch"


# ---- flags and knobs changed between steps -----------------------------------------
@pytest.mark.parametrize(
    "name, flavour, built_with, change",
    [
        ("Adam", "keras22", {}, {"amsgrad": True}),
        ("RMSprop", "torch", {}, {"momentum": 0.5}),
        ("RMSprop", "torch", {"momentum": 0.3}, {"momentum": 0.0}),
        ("RMSprop", "torch", {}, {"centered": True}),
        ("RMSprop", "keras3", {"centered": True}, {"centered": False}),
    ],
)
def test_rule_chosen_by_a_group_change_is_used_on_every_path(
    name, flavour, built_with, change
):
    """A group whose flag or knob chooses another rule (and slots) between steps: the
    steady path must not keep running the recorded kernel; every engine agrees."""
    results = []
    for engine in [None, "reference", "torch"]:
        p = make_params(SHAPES, torch.float64)
        opt = getattr(gtorch, name)(p, flavour=flavour, engine=engine, **built_with)
        for step, grads in enumerate(grad_sequence(SHAPES, 6, torch.float64)):
            if step == 3:
                opt.param_groups[0].update(change)
            set_grads(p, grads)
            opt.step()
        results.append([x.detach().clone() for x in p])
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert torch.equal(a, b)
