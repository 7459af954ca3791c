"""How ``step()`` is entered (``gradstep.torch._entry``): straight to the step when
nothing needs torch's wrapping, through all of it (profiler record, step hooks,
``torch._disable_dynamo``, ``no_grad``) otherwise; both give the same numbers."""

from __future__ import annotations

import contextlib

import pytest
import torch
from torch.optim.optimizer import (
    register_optimizer_step_post_hook,
    register_optimizer_step_pre_hook,
)

import gradstep.torch as gtorch

from ._util import grad_sequence, make_params, set_grads

SHAPES = [(3, 4), (4,), (5,)]


def _trained(factory, steps=4, setup=lambda opt: None):
    params = make_params(SHAPES)
    opt = factory(params)
    setup(opt)
    for grads in grad_sequence(SHAPES, steps):
        set_grads(params, grads)
        opt.step()
    return [p.detach().clone() for p in params]


def _forbid_wrapping(monkeypatch):
    """Make torch's record and the dynamo-disabled step fail if they run."""

    def fail(*args, **kwargs):
        raise AssertionError("the wrapped step ran")

    monkeypatch.setattr(torch.autograd.profiler, "record_function", fail)
    monkeypatch.setattr(gtorch.Adam, "_wrapped_step", fail)


def test_a_plain_step_skips_the_wrapping_and_matches_the_wrapped_one(monkeypatch):
    wrapped = _trained(
        gtorch.Adam, setup=lambda opt: opt.register_step_pre_hook(lambda *a: None)
    )
    _forbid_wrapping(monkeypatch)
    plain = _trained(gtorch.Adam)
    for a, b in zip(plain, wrapped):
        assert torch.equal(a, b)


@pytest.mark.parametrize("where", ["instance", "global"])
def test_step_hooks_run_in_torchs_order_and_may_replace_the_arguments(where):
    params = make_params(SHAPES)
    opt = gtorch.SGD(params, lr=0.1)
    calls = []

    def closure():
        calls.append("closure")
        return torch.tensor(1.5)

    def pre(o, args, kwargs):  # args: (optimizer, *step's arguments)
        calls.append(("pre", o is opt, args == (opt,), dict(kwargs)))
        return args, {"closure": closure}

    def post(o, args, kwargs):
        calls.append(("post", o is opt, tuple(kwargs)))

    if where == "instance":
        handles = [opt.register_step_pre_hook(pre), opt.register_step_post_hook(post)]
    else:
        handles = [
            register_optimizer_step_pre_hook(pre),
            register_optimizer_step_post_hook(post),
        ]
    try:
        set_grads(params, grad_sequence(SHAPES, 1)[0])
        loss = opt.step()
    finally:
        for handle in handles:
            handle.remove()
    assert calls == [("pre", True, True, {}), "closure", ("post", True, ("closure",))]
    assert float(loss) == 1.5
    assert opt.param_groups[0]["iterations"] == 1


@pytest.mark.parametrize("profiler", ["autograd", "kineto"])
def test_the_profiler_records_the_step_under_torchs_name(profiler):
    params = make_params(SHAPES)
    opt = gtorch.Adam(params)
    set_grads(params, grad_sequence(SHAPES, 1)[0])
    opt.step()  # the first (general) step outside the record
    if profiler == "autograd":
        with torch.autograd.profiler.profile() as prof:
            opt.step()
        names = {e.name for e in prof.function_events}
    else:
        with torch.profiler.profile(
            activities=[torch.profiler.ProfilerActivity.CPU]
        ) as prof:
            opt.step()
        names = {e.key for e in prof.key_averages()}
    assert "Optimizer.step#Adam.step" in names
    assert opt.param_groups[0]["iterations"] == 2


@pytest.mark.parametrize("outside", ["enabled", "disabled"])
def test_gradients_are_off_inside_and_restored_after(outside):
    params = make_params(SHAPES)
    opt = gtorch.SGD(params, lr=0.1, momentum=0.5)
    seen = []

    def closure():
        seen.append(torch.is_grad_enabled())  # the closure runs with gradients on
        return None

    context = torch.no_grad() if outside == "disabled" else contextlib.nullcontext()
    with context:
        for grads in grad_sequence(SHAPES, 2):
            set_grads(params, grads)
            opt.step(closure)
        assert torch.is_grad_enabled() is (outside == "enabled")
    assert seen == [True, True]
    assert all(p.is_leaf and p.grad_fn is None and p.requires_grad for p in params)


def test_grad_mode_is_restored_when_the_step_raises():
    params = make_params(SHAPES)
    opt = gtorch.Adam(params)
    set_grads(params, grad_sequence(SHAPES, 1)[0])
    opt.param_groups[0]["lr"] = float("nan")
    with pytest.raises(ValueError, match="param group 0: lr"):
        opt.step()
    assert torch.is_grad_enabled()


@pytest.mark.parametrize("base", ["gradstep", "torch"])
def test_a_subclass_step_runs_the_hooks_as_torch_does(base):
    # torch wraps each class's own ``step`` once; a subclass's step that calls
    # super().step() runs the hooks in both wrappers (torch's behaviour, kept)
    parent = gtorch.Adam if base == "gradstep" else torch.optim.Adam

    class Counting(parent):
        steps = 0

        def step(self, closure=None):
            type(self).steps += 1
            return super().step(closure)

    parent(make_params(SHAPES))  # the parent class's step is wrapped by now
    params = make_params(SHAPES)
    opt = Counting(params)
    calls = []
    opt.register_step_post_hook(lambda *a: calls.append("post"))
    set_grads(params, grad_sequence(SHAPES, 1)[0])
    opt.step()
    assert Counting.steps == 1 and calls == ["post", "post"]
