"""Edges of the fast step entries (plain call, steady path) against torch.optim, in
float64 with ``flavour="torch"``."""

from __future__ import annotations

import pytest
import torch

import gradstep.torch as gtorch


def _model() -> torch.nn.Module:
    torch.manual_seed(1)
    return torch.nn.Sequential(
        torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2)
    ).double()


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(8, 4, dtype=torch.float64, generator=generator)
    y = torch.randn(8, 2, dtype=torch.float64, generator=generator)
    return x, y


def _train_with_first_step_in_inference_mode(make, steps=5):
    """Steps with ``zero_grad(set_to_none=False)``, the first under inference mode."""
    model = _model()
    opt = make(model.parameters())
    x, y = _data()
    for i in range(steps):
        opt.zero_grad(set_to_none=False)
        ((model(x) - y) ** 2).mean().backward()
        if i == 0:
            with torch.inference_mode():
                opt.step()
        else:
            opt.step()
    return [p.detach().clone() for p in model.parameters()], opt


@pytest.mark.parametrize(
    "options",
    [{"flatten_params": True}, {"engine": "torch"}, {}, {"engine": "reference"}],
)
def test_a_first_step_under_inference_mode_leaves_no_inference_tensors(options):
    """torch.optim's SGD (no state) trains on after a step under inference mode;
    gradstep's slots, counter and gradient buffer must not be inference tensors that a
    later step or backward cannot update in place."""
    expected, _ = _train_with_first_step_in_inference_mode(
        lambda ps: torch.optim.SGD(ps, lr=0.01)
    )
    got, opt = _train_with_first_step_in_inference_mode(
        lambda ps: gtorch.SGD(ps, lr=0.01, flavour="torch", **options)
    )
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)
    for group in opt.param_groups:
        for p in group["params"]:
            assert not p.grad.is_inference()
            for value in opt.state[p].values():
                if torch.is_tensor(value):
                    assert not value.is_inference()
