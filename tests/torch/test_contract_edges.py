"""What torch.optim code does to an optimizer between steps, against gradstep.torch:
schedulers filling a tensor lr or editing betas in place, torch's names set on a group
later, replaced state slots, gradients of another dtype, torch's own ``defaults``."""

from __future__ import annotations

import copy

import pytest

torch = pytest.importorskip("torch")

import gradstep.torch as gtorch  # noqa: E402

from ._util import assert_bitwise, grad_sequence, make_params  # noqa: E402

SHAPES = [(3,), (2, 2)]


def _trajectory(opt, params, steps, schedule=None, before_step=None):
    for index, grads in enumerate(grad_sequence(SHAPES, steps, torch.float64)):
        for p, g in zip(params, grads):
            p.grad = g
        if before_step is not None:
            before_step(opt, index)
        opt.step()
        if schedule is not None:
            schedule.step()
    return [p.detach().clone() for p in params]


@pytest.mark.parametrize("engine", [None, "reference", "torch"])
def test_a_tensor_lr_updated_in_place_by_a_scheduler_is_used(engine):
    # torch's lr schedulers fill a tensor lr in place (_update_param_group_val)
    results = []
    for cls, extra in ((torch.optim.Adam, {}), (gtorch.Adam, {"flavour": "torch"})):
        if engine is not None and cls is gtorch.Adam:
            extra = {**extra, "engine": engine}
        params = make_params(SHAPES, torch.float64)
        opt = cls(params, lr=torch.tensor(0.1, dtype=torch.float64), **extra)
        schedule = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
        results.append(_trajectory(opt, params, 6, schedule))
    for got, want in zip(*reversed(results)):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=0)


def test_betas_changed_in_place_are_used():
    def change(opt, index):
        group = opt.param_groups[0]
        if index == 0:
            group["betas"] = [0.9, 0.999]
        if index == 2:
            group["betas"][0] = 0.5

    results = []
    for cls, extra in ((torch.optim.Adam, {}), (gtorch.Adam, {"flavour": "torch"})):
        params = make_params(SHAPES, torch.float64)
        opt = cls(params, lr=0.1, **extra)
        results.append(_trajectory(opt, params, 5, before_step=change))
    for got, want in zip(*reversed(results)):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", ["Adam", "NAdam"])
def test_torch_defaults_are_accepted(name, float64_default):
    torch_cls = getattr(torch.optim, name)
    ours = getattr(gtorch, "Nadam" if name == "NAdam" else name)
    defaults = torch_cls(make_params(SHAPES, torch.float64)).defaults
    params = make_params(SHAPES, torch.float64)
    reference = make_params(SHAPES, torch.float64)
    got = _trajectory(ours(params, flavour="torch", **defaults), params, 3)
    want = _trajectory(torch_cls(reference, **defaults), reference, 3)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=0)


def test_decoupled_weight_decay_on_is_refused():
    with pytest.raises(ValueError, match="decoupled_weight_decay"):
        gtorch.Adam(make_params(SHAPES, torch.float64), decoupled_weight_decay=True)


def _bad_slots():
    # (float32 and float64 slots of either parameter dtype compute, as in torch's SGD)
    return {
        "short": lambda p: torch.zeros(p.numel() - 1, dtype=p.dtype),
        "long": lambda p: torch.zeros(p.numel() + 2, dtype=p.dtype),
        "reshaped": lambda p: torch.zeros(p.numel(), 1, dtype=p.dtype),
        "int": lambda p: torch.zeros(p.shape, dtype=torch.int64),
        "half": lambda p: torch.zeros(p.shape, dtype=torch.float16),
        "sparse": lambda p: torch.zeros(p.shape, dtype=p.dtype).to_sparse(),
        "not a tensor": lambda p: 0.0,
    }


@pytest.mark.parametrize("flatten_params", [False, True])
@pytest.mark.parametrize("engine", [None, "reference", "torch"])
@pytest.mark.parametrize("bad", sorted(_bad_slots()))
def test_a_replaced_slot_of_the_wrong_shape_or_dtype_raises_before_any_change(
    bad, engine, flatten_params
):
    if bad == "half" and engine == "torch":
        pytest.skip("torch operations compute a float16 slot as torch.optim does")
    a, b = make_params(SHAPES, torch.float64)
    opt = gtorch.Adam(
        [{"params": [a]}, {"params": [b]}],
        lr=0.1,
        engine=engine,
        flatten_params=flatten_params,
    )
    a.grad, b.grad = torch.ones_like(a), torch.ones_like(b)
    opt.step()
    opt.state[b]["m"] = _bad_slots()[bad](b)
    a.grad, b.grad = torch.ones_like(a), torch.ones_like(b)
    params = [a.detach().clone(), b.detach().clone()]
    slots = copy.deepcopy(opt.state[a])
    with pytest.raises(ValueError, match="param group 1, parameter 0"):
        opt.step()
    assert_bitwise([a, b], params)
    assert_bitwise([opt.state[a][n] for n in ("m", "v")], [slots["m"], slots["v"]])
    assert [g["iterations"] for g in opt.param_groups] == [1, 1]


@pytest.mark.parametrize("flatten_params", [False, True])
@pytest.mark.parametrize("engine", [None, "reference", "torch"])
def test_a_gradient_of_another_dtype_steps_as_its_cast(engine, flatten_params):
    # torch >= 2.10 lets p.grad have another dtype once p.grad_dtype is None
    if not hasattr(torch.Tensor, "grad_dtype"):
        pytest.skip("this torch has no grad_dtype")
    results = []
    for cast in (False, True):
        params = make_params(SHAPES, torch.float64)
        opt = gtorch.Adam(
            params,
            lr=0.1,
            clipnorm=0.5,
            engine=engine,
            flatten_params=flatten_params,
        )
        for p in params:
            p.grad_dtype = None
        for grads in grad_sequence(SHAPES, 4, torch.float32):
            for p, g in zip(params, grads):
                p.grad = g.to(p.dtype) if cast else g
            opt.step()
        results.append(params)
    assert_bitwise(*results)


@pytest.mark.parametrize("flatten_params", [False, True])
def test_a_loaded_slot_that_requires_grad_leaves_the_optimizer_copyable(
    flatten_params,
):
    params = make_params(SHAPES, torch.float64)
    opt = gtorch.Adam(params, lr=0.1, flatten_params=flatten_params)
    grads = grad_sequence(SHAPES, 3, torch.float64)
    for p, g in zip(params, grads[0]):
        p.grad = g
    opt.step()
    state_dict = opt.state_dict()
    state_dict["state"][0]["m"] = state_dict["state"][0]["m"].clone().requires_grad_()
    opt.load_state_dict(state_dict)
    twin = copy.deepcopy(opt)
    for o in (opt, twin):
        for step_grads in grads[1:]:
            for p, g in zip(o.param_groups[0]["params"], step_grads):
                p.grad = g.clone()
            o.step()
    assert_bitwise(opt.param_groups[0]["params"], twin.param_groups[0]["params"])


@pytest.mark.parametrize(
    ("cls", "key", "value"),
    [
        (gtorch.Adam, "eps", 0.1),
        (gtorch.Adam, "weight_decay", 0.1),
        (gtorch.Adam, "maximize", True),
        (gtorch.Adam, "learning_rate", 0.5),
        (gtorch.RMSprop, "alpha", 0.5),
        (gtorch.Nadam, "momentum_decay", 0.1),
        (gtorch.Adagrad, "lr_decay", 0.5),
    ],
)
@pytest.mark.parametrize("flatten_params", [False, True])
def test_a_torch_name_set_in_a_group_later_is_not_silently_ignored(
    cls, key, value, flatten_params
):
    params = make_params(SHAPES, torch.float64)
    opt = cls(params, flavour="torch", flatten_params=flatten_params)
    grads = grad_sequence(SHAPES, 2, torch.float64)
    for p, g in zip(params, grads[0]):
        p.grad = g
    opt.step()  # the next step may take the steady path
    opt.param_groups[0][key] = value
    for p, g in zip(params, grads[1]):
        p.grad = g
    before = [p.detach().clone() for p in params]
    with pytest.raises(ValueError, match=key):
        opt.step()
    assert_bitwise(params, before)
    assert opt.param_groups[0]["iterations"] == 1


def test_a_torch_name_that_agrees_with_the_group_steps():
    params = make_params(SHAPES, torch.float64)
    reference = make_params(SHAPES, torch.float64)
    opt = gtorch.Adam(params, flavour="torch", eps=1e-3)
    opt.param_groups[0].update(eps=1e-3, weight_decay=0, maximize=False)
    want = _trajectory(torch.optim.Adam(reference, eps=1e-3), reference, 3)
    got = _trajectory(opt, params, 3)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=0)


@pytest.mark.parametrize("flatten_params", [False, True])
def test_a_knob_the_flavour_lacks_set_in_a_group_later_is_refused(flatten_params):
    """``group["momentum"] = 0.9`` on a Keras 2.2 RMSprop (which has no momentum) would
    be ignored: refused before any change, while its off value steps as before."""
    params = make_params(SHAPES, torch.float64)
    for p, g in zip(params, grad_sequence(SHAPES, 1, torch.float64)[0]):
        p.grad = g
    opt = gtorch.RMSprop(params, lr=0.1, flatten_params=flatten_params)
    opt.step()
    before = [p.detach().clone() for p in params]
    opt.param_groups[0]["momentum"] = 0.9
    with pytest.raises(ValueError, match="has no momentum.*flavours with it"):
        opt.step()
    assert all(torch.equal(a, p.detach()) for a, p in zip(before, params))
    assert opt.param_groups[0]["iterations"] == 1
    opt.param_groups[0]["momentum"] = 0.0
    opt.step()
    assert opt.param_groups[0]["iterations"] == 2


@pytest.mark.parametrize("name, flavour", [("SGD", "torch"), ("SGD", "optax")])
def test_momentum_crossing_zero_in_a_group_after_a_step_is_refused(name, flavour):
    """With momentum 0 the torch-flavour buffer holds the last gradient (torch.optim
    keeps none and would start afresh): a group's momentum leaving 0 after the first
    step is refused before any change, as assigning it to the NumPy optimizer is."""
    params = make_params(SHAPES, torch.float64)
    opt = getattr(gtorch, name)(params, lr=0.1, momentum=0.0, flavour=flavour)
    opt.param_groups[0]["momentum"] = 0.5  # before any step: nothing depends on it
    opt.param_groups[0]["momentum"] = 0.0
    for p, g in zip(params, grad_sequence(SHAPES, 1, torch.float64)[0]):
        p.grad = g
    opt.step()
    before = [p.detach().clone() for p in params]
    opt.param_groups[0]["momentum"] = 0.9
    with pytest.raises(ValueError, match="between 0 and > 0"):
        opt.step()
    assert all(torch.equal(a, p.detach()) for a, p in zip(before, params))
    assert opt.param_groups[0]["iterations"] == 1
