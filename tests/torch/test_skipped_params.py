"""``flavour="torch"`` with parameters that have no gradient at some steps: each counts
its own steps (``state[p]["step"]``, NAdam's product too), as torch.optim does, and the
trajectories equal torch.optim's, through every engine, the steady path, ``state_dict``
and ``load_state_dict`` (torch.save in between), and a parameter frozen at first.

The other flavours count the group's steps (Keras's ``iterations``): a parameter that
skips still ages, checked against the same run given the group's count."""

from __future__ import annotations

import io

import pytest
import torch

import gradstep.torch as gtorch

from ._util import grad_sequence, make_params, set_grads, step_both

STEPS = 7
SHAPES = [(3, 2), (4,), (5,)]
CASES = [  # (torch.optim class, gradstep.torch class, keywords)
    ("Adam", "Adam", {"lr": 0.01}),
    ("Adam", "Adam", {"lr": 0.01, "amsgrad": True}),
    ("NAdam", "Nadam", {"lr": 0.01}),
    ("Adamax", "Adamax", {"lr": 0.01}),
    ("Adagrad", "Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("RMSprop", "RMSprop", {"lr": 0.01, "momentum": 0.5}),
    ("SGD", "SGD", {"lr": 0.05, "momentum": 0.9}),
    ("Adadelta", "Adadelta", {"lr": 1.0}),
]
IDS = [f"{c[0]}{'-amsgrad' if c[2].get('amsgrad') else ''}" for c in CASES]
STEP_DEPENDENT = {"Adam", "NAdam", "Adamax", "Adagrad"}


def _has_grad(step, i):
    """Parameter 0 steps every time; 1 skips steps 2 and 5; 2 is frozen until step 3."""
    return i == 0 or (i == 1 and step % 3 != 1) or (i == 2 and step >= 3)


def _grads(step, grads):
    return [g if _has_grad(step, i) else None for i, g in enumerate(grads[step])]


def _counts(opt, params):
    """Each parameter's ``state[p]["step"]`` (0 before its first step; None where the
    optimizer keeps none: torch.optim.SGD)."""
    counts = []
    for p in params:
        state = opt.state.get(p, {})
        counts.append(float(state["step"]) if "step" in state else None)
    return [
        0.0 if c is None and p not in opt.state else c for c, p in zip(counts, params)
    ]


def _run(make, steps=range(STEPS), params=None, opt=None, align=False):
    """Step ``make(params)``'s optimizer; with ``align``, torch.optim's state is given
    the group's count (and NAdam product) before each step, as Keras counts."""
    params = make_params(SHAPES, dtype=torch.float64) if params is None else params
    grads = grad_sequence(SHAPES, STEPS, dtype=torch.float64)
    opt = make(params) if opt is None else opt
    trajectory, group_mu_product = [], 1.0
    for step in steps:
        set_grads(params, _grads(step, grads))
        for p in params if align else ():
            state = opt.state.get(p, {})
            if "step" in state:
                state["step"].fill_(float(step))
                if "mu_product" in state:
                    state["mu_product"].fill_(group_mu_product)
        opt.step()
        if align and "mu_product" in opt.state[params[0]]:
            group_mu_product = float(opt.state[params[0]]["mu_product"])
        trajectory.append(([p.detach().clone() for p in params], _counts(opt, params)))
    return trajectory, params, opt


def _assert_same(ours, theirs, rtol=1e-12):
    for step, ((a, a_counts), (b, b_counts)) in enumerate(zip(ours, theirs)):
        for i, (x, y) in enumerate(zip(a, b)):
            torch.testing.assert_close(
                x, y, rtol=rtol, atol=0, msg=f"step {step}, parameter {i}"
            )
        if None not in b_counts:
            assert a_counts == b_counts, (step, a_counts, b_counts)


def _torch_optim(name, kwargs):
    return lambda p: getattr(torch.optim, name)(p, **kwargs)


def _ours(name, kwargs, **more):
    return lambda p: getattr(gtorch, name)(p, flavour="torch", **kwargs, **more)


@pytest.mark.parametrize("engine", ["fused", "reference", "torch"])
@pytest.mark.parametrize("torch_name, name, kwargs", CASES, ids=IDS)
def test_each_parameter_counts_its_own_steps(
    float64_default, torch_name, name, kwargs, engine
):
    ours, _, opt = _run(_ours(name, kwargs, engine=engine))
    theirs, _, _ = _run(_torch_optim(torch_name, kwargs))
    _assert_same(ours, theirs)
    assert opt.param_groups[0]["iterations"] == STEPS  # the group's own count
    assert ours[-1][1] == [STEPS, STEPS - 2, STEPS - 3]
    if torch_name in STEP_DEPENDENT:  # counting the group's steps would differ
        keras_count, _, _ = _run(_torch_optim(torch_name, kwargs), align=True)
        assert (keras_count[-1][0][1] - theirs[-1][0][1]).abs().max() > 1e-6


@pytest.mark.parametrize("flatten_params", [False, True])
@pytest.mark.parametrize("torch_name, name, kwargs", CASES, ids=IDS)
def test_steady_steps_after_the_counts_part(
    float64_default, torch_name, name, kwargs, flatten_params
):
    """Parameter 1 skips once, then all step: two cohorts; the steady path takes over
    again while the same parameters step with one count (here: from the frozen
    parameter's first step on, the two cohorts never meet, so the general path)."""
    make = _ours(name, kwargs, flatten_params=flatten_params)
    ours, params, opt = _run(make)
    theirs, _, _ = _run(_torch_optim(torch_name, kwargs))
    _assert_same(ours, theirs)
    # one parameter alone in its group steps through the steady path, counting itself
    solo = make_params([(6,)], dtype=torch.float64)
    solo_opt = _ours(name, kwargs, flatten_params=flatten_params)(solo)
    torch_solo = [p.detach().clone().requires_grad_() for p in solo]
    torch_opt = _torch_optim(torch_name, kwargs)(torch_solo)
    grads = grad_sequence([(6,)], 5, dtype=torch.float64)
    for step in range(5):
        set_grads(solo, grads[step])
        set_grads(torch_solo, grads[step])
        solo_opt.step()
        torch_opt.step()
        torch.testing.assert_close(solo[0], torch_solo[0], rtol=1e-12, atol=0)
        assert float(solo_opt.state[solo[0]]["step"]) == step + 1
    assert solo_opt._stepper.steady is not None or solo_opt.engine != "fused"


@pytest.mark.parametrize("torch_name, name, kwargs", CASES, ids=IDS)
def test_resume_keeps_each_parameters_count(float64_default, torch_name, name, kwargs):
    """4 steps, state_dict through torch.save/torch.load into a fresh optimizer, 3 more:
    the same as 7 straight, and as torch.optim."""
    straight, _, _ = _run(_ours(name, kwargs))
    first, params, opt = _run(_ours(name, kwargs), steps=range(4))
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)
    fresh = _ours(name, kwargs)(params)
    fresh.load_state_dict(loaded)
    assert _counts(fresh, params) == _counts(opt, params)
    rest, _, _ = _run(None, steps=range(4, STEPS), params=params, opt=fresh)
    _assert_same(first + rest, straight, rtol=0)
    theirs, _, _ = _run(_torch_optim(torch_name, kwargs))
    _assert_same(first + rest, theirs)


def test_loaded_counts_are_shared_by_equal_ones(float64_default):
    """After a load, the parameters with one count share one counter tensor (a step
    writes it once), those with another count another."""
    _, params, opt = _run(_ours("Nadam", {"lr": 0.01}), steps=range(4))
    fresh = gtorch.Nadam(params, lr=0.01, flavour="torch")
    fresh.load_state_dict(opt.state_dict())
    steps = [fresh.state[p]["step"] for p in params]
    assert [float(s) for s in steps] == [4.0, 3.0, 1.0]
    assert len({id(s) for s in steps}) == 3
    products = [float(fresh.state[p]["m_schedule"]) for p in params]
    assert products == [float(opt.state[p]["m_schedule"]) for p in params]
    assert products[0] < products[1] < products[2] < 1.0


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("step", torch.tensor(-1.0), "step=-1.0; expected a whole number"),
        ("step", torch.tensor(2.5), "step=2.5; expected a whole number"),
        ("step", "3", "step='3'; expected a whole number"),
        ("m_schedule", torch.tensor(float("nan")), "m_schedule=nan"),
        ("m_schedule", 1.5, "m_schedule=1.5; expected a number in \\[0, 1\\]"),
    ],
)
def test_a_wrong_count_is_refused_before_anything_changes(
    float64_default, key, value, message
):
    _, params, opt = _run(_ours("Nadam", {"lr": 0.01}), steps=range(3))
    state_dict = opt.state_dict()
    state_dict["state"][1] = {**state_dict["state"][1], key: value}  # a copy
    before = {k: v.clone() for k, v in opt.state[params[1]].items()}
    with pytest.raises(ValueError, match=f"state of parameter 1: {message}"):
        opt.load_state_dict(state_dict)
    for k, v in before.items():
        torch.testing.assert_close(opt.state[params[1]][k], v, rtol=0, atol=0)


def test_a_wrong_count_in_the_state_is_refused_at_the_step(float64_default):
    _, params, opt = _run(_ours("Adam", {"lr": 0.01}), steps=range(2))
    opt.state[params[0]]["step"] = torch.tensor(-3.0)
    kept = params[1].detach().clone()
    set_grads(params, [torch.ones_like(p) for p in params])
    with pytest.raises(
        ValueError, match="parameter 0: state\\[p\\]: step=-3.0; expected"
    ):
        opt.step()
    torch.testing.assert_close(params[1], kept, rtol=0, atol=0)


@pytest.mark.parametrize("torch_name, name, kwargs", CASES[:5], ids=IDS[:5])
@pytest.mark.parametrize("flavour", ["keras22", "tf_keras", "keras3", "optax"])
def test_other_flavours_count_the_group_steps(
    float64_default, torch_name, name, kwargs, flavour
):
    """Keras's ``iterations`` for every parameter: a skipping one still ages (its step
    mirrors the group's count), so its count is the group's."""
    kwargs = {k: v for k, v in kwargs.items() if k != "lr_decay"}
    ours, params, opt = _run(
        lambda p: getattr(gtorch, name)(p, flavour=flavour, **kwargs)
    )
    assert ours[-1][1] == [STEPS, STEPS, STEPS]
    assert opt.state[params[1]]["step"] is opt.state[params[0]]["step"]


@pytest.mark.parametrize("torch_name, name, kwargs", CASES, ids=IDS)
def test_the_steady_path_counts_each_parameter(
    float64_default, torch_name, name, kwargs
):
    """A parameter that is never stepped (frozen) and one that stops at step 3: the
    others form one cohort again, the steady path takes the steps (fused engine), and
    the counts and values stay torch.optim's."""
    shapes = [(3, 2), (4,), (5,)]
    ours_params = make_params(shapes, dtype=torch.float64)
    theirs_params = [p.detach().clone().requires_grad_() for p in ours_params]
    ours = getattr(gtorch, name)(ours_params, flavour="torch", engine="fused", **kwargs)
    theirs = getattr(torch.optim, torch_name)(theirs_params, **kwargs)
    grads = grad_sequence(shapes, 8, dtype=torch.float64)
    for step in range(8):
        stepped = [grads[step][0], grads[step][1] if step < 3 else None, None]
        step_both([(ours_params, ours), (theirs_params, theirs)], stepped, step)
        assert _counts(ours, ours_params) == [step + 1, min(step + 1, 3), 0.0]
    assert ours._stepper.steady is not None
    assert ours.state[ours_params[0]]["step"] is not ours.state[ours_params[1]]["step"]


@pytest.mark.parametrize("torch_name, name, kwargs", CASES, ids=IDS)
def test_the_steady_path_steps_several_cohorts(
    float64_default, torch_name, name, kwargs
):
    """Parameter 1 skips step 2 and parameter 2 starts at step 1, so from step 3 on
    the group has two counts (parameter 0's, and 1's and 2's): the steady path keeps
    one record per cohort, and the values and counts stay torch.optim's."""
    shapes = [(3, 2), (4,), (5,)]
    ours_params = make_params(shapes, dtype=torch.float64)
    theirs_params = [p.detach().clone().requires_grad_() for p in ours_params]
    ours = getattr(gtorch, name)(ours_params, flavour="torch", engine="fused", **kwargs)
    theirs = getattr(torch.optim, torch_name)(theirs_params, **kwargs)
    grads = grad_sequence(shapes, 9, dtype=torch.float64)
    seen = []
    for step in range(9):
        stepped = [
            grads[step][0],
            None if step == 2 else grads[step][1],
            None if step == 0 else grads[step][2],
        ]
        step_both([(ours_params, ours), (theirs_params, theirs)], stepped, step)
        seen.append(ours._stepper.steady)
    if torch_name != "SGD":
        assert _counts(ours, ours_params) == [9.0, 8.0, 8.0]
    assert seen[-1] is not None and seen[-1] is seen[-2] is seen[-3]
    assert len(seen[-1][0][0].parts) == 2  # counts 9, and 8 for parameters 1 and 2
