"""``flavour="torch"`` with a parameter that has no gradient at some steps: what
docs/flavours.md ("Step counts are per group") says gradstep does, against torch.optim.

torch.optim counts steps per parameter (``state[p]["step"]``, and NAdam's
``mu_product``) and advances them only when the parameter has a gradient; gradstep
counts per param group, as Keras does. So the parameter that steps every time equals
torch.optim's exactly, and the one that skips equals torch.optim's only when its torch
state is given the group's count (and NAdam's product) before each of its steps. When
gradstep counts per parameter, this test fails by name: then the skipping
parameter equals torch.optim's as it is."""

from __future__ import annotations

import pytest
import torch

import gradstep.torch as gtorch

from ._util import grad_sequence, make_params, set_grads

STEPS = 7
SHAPES = [(3, 2), (4,)]
CASES = [  # (torch.optim class, gradstep.torch class, keywords)
    ("Adam", "Adam", {"lr": 0.01}),
    ("NAdam", "Nadam", {"lr": 0.01}),
    ("Adamax", "Adamax", {"lr": 0.01}),
    ("Adagrad", "Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("RMSprop", "RMSprop", {"lr": 0.01, "momentum": 0.5}),
    ("SGD", "SGD", {"lr": 0.05, "momentum": 0.9}),
]
STEP_DEPENDENT = {"Adam", "NAdam", "Adamax", "Adagrad"}


def _grads(step, grads):
    """The second parameter has no gradient at steps 2 and 5 (of 7)."""
    return [grads[step][0], grads[step][1] if step % 3 != 1 else None]


def _run(make, align=False):
    params = make_params(SHAPES, dtype=torch.float64)
    grads = grad_sequence(SHAPES, STEPS, dtype=torch.float64)
    opt = make(params)
    group_mu_product = 1.0
    for step in range(STEPS):
        set_grads(params, _grads(step, grads))
        state = opt.state.get(params[1], {})
        if align and "step" in state:  # torch.optim as gradstep counts: per group
            state["step"].fill_(float(step))
            if "mu_product" in state:
                state["mu_product"].fill_(group_mu_product)
        opt.step()
        if align and "mu_product" in opt.state[params[0]]:
            group_mu_product = float(opt.state[params[0]]["mu_product"])
    return [p.detach().clone() for p in params], opt


@pytest.mark.parametrize("torch_name, name, kwargs", CASES, ids=[c[0] for c in CASES])
def test_skipping_parameter_counts_the_group_steps(
    float64_default, torch_name, name, kwargs
):
    ours, opt = _run(lambda p: getattr(gtorch, name)(p, flavour="torch", **kwargs))
    theirs, _ = _run(lambda p: getattr(torch.optim, torch_name)(p, **kwargs))
    aligned, _ = _run(
        lambda p: getattr(torch.optim, torch_name)(p, **kwargs), align=True
    )
    torch.testing.assert_close(ours[0], theirs[0], rtol=1e-12, atol=0)
    torch.testing.assert_close(ours[1], aligned[1], rtol=1e-12, atol=0)
    if torch_name in STEP_DEPENDENT:  # the difference the docs state is real
        assert (ours[1] - theirs[1]).abs().max() > 1e-6
    else:
        torch.testing.assert_close(ours[1], theirs[1], rtol=1e-12, atol=0)
    assert float(opt.state[opt.param_groups[0]["params"][1]]["step"]) == STEPS
