"""torch.distributed.checkpoint's state-dict functions, which FSDP2 and DCP users call
to save and load an optimizer (``get_optimizer_state_dict``, keyed by parameter
names, and ``set_optimizer_state_dict``), with gradstep.torch on a plain model in one
process."""

from __future__ import annotations

import pytest
import torch

import gradstep.torch as gtorch
from gradstep.optimizers import _registry

from ._util import assert_bitwise

state_dict_api = pytest.importorskip("torch.distributed.checkpoint.state_dict")
FULL = state_dict_api.StateDictOptions(full_state_dict=True)
NAMES = sorted(cls.__name__ for cls in _registry.builtin_classes().values())
CONFIGS = {
    "SGD": {"lr": 0.01, "momentum": 0.9, "nesterov": True},
    "Adadelta": {"lr": 1.0},
    "Adam": {"lr": 0.01, "amsgrad": True},
}


def _build(name, seed, flavour="keras22"):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)
    )
    config = CONFIGS.get(name, {"lr": 0.01})
    opt = getattr(gtorch, name)(model.parameters(), flavour=flavour, **config)
    return model, opt


def _train(model, opt, batches):
    for x in batches:
        opt.zero_grad()
        model(x).pow(2).sum().backward()
        opt.step()


def _batches(count):
    gen = torch.Generator().manual_seed(7)
    return [torch.randn(16, 4, generator=gen) for _ in range(count)]


@pytest.mark.parametrize("flavour", ["keras22", "torch"])
@pytest.mark.parametrize("name", NAMES)
def test_resumed_through_the_full_state_dict_equals_uninterrupted(name, flavour):
    """flavour="torch" too: each parameter's own step count goes through DCP."""
    batches = _batches(5)
    model, opt = _build(name, seed=0, flavour=flavour)
    _train(model, opt, batches[:3])
    saved = state_dict_api.get_optimizer_state_dict(model, opt, options=FULL)
    assert set(saved["state"]) == {n for n, _ in model.named_parameters()}
    weights = {k: v.clone() for k, v in model.state_dict().items()}

    other, other_opt = _build(name, seed=1, flavour=flavour)  # a fresh optimizer
    other.load_state_dict(weights)
    state_dict_api.set_optimizer_state_dict(
        other, other_opt, optim_state_dict=saved, options=FULL
    )
    _train(model, opt, batches[3:])
    _train(other, other_opt, batches[3:])
    assert_bitwise(list(other.parameters()), list(model.parameters()))
    assert other_opt.param_groups[0]["iterations"] == 5
    assert opt.param_groups[0]["iterations"] == 5
    counts = [float(other_opt.state[p]["step"]) for p in other.parameters()]
    assert counts == [5.0] * len(counts)


@pytest.mark.parametrize("name", NAMES)
def test_the_state_dict_of_a_fresh_optimizer_is_made_as_for_torch_optim(name):
    # A fresh optimizer has no state: DCP makes it by one step at lr 0 on zero
    # gradients, then restores lr. That step must leave the parameters as they were
    # and count as one, as it does for torch.optim.Adam.
    model, opt = _build(name, seed=0)
    before = [p.detach().clone() for p in model.parameters()]
    saved = state_dict_api.get_optimizer_state_dict(model, opt)
    assert_bitwise(list(model.parameters()), before)
    assert opt.param_groups[0]["lr"] == CONFIGS.get(name, {"lr": 0.01})["lr"]

    twin, _ = _build(name, seed=0)
    torch_opt = torch.optim.Adam(twin.parameters(), lr=0.01)
    torch_saved = state_dict_api.get_optimizer_state_dict(twin, torch_opt)
    assert set(saved["state"]) == set(torch_saved["state"])
    for key, slots in saved["state"].items():
        assert float(slots["step"]) == float(torch_saved["state"][key]["step"]) == 1.0
    assert opt.param_groups[0]["iterations"] == 1
