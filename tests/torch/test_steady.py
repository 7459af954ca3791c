"""The steady step (same parameters as the last step, new ordinary gradients: addresses
read from torch, one kernel call per group) against the general path, which the
reference engine always takes: bitwise the same, also when something changes between
steps and the step must leave the steady path."""

from __future__ import annotations

import copy
import operator

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("numba")

import gradstep.torch as gtorch  # noqa: E402

from ..cases import all_configs, config_ids, torch_class  # noqa: E402
from ._util import assert_bitwise, grad_sequence, make_params  # noqa: E402

SHAPES = [(40, 30), (30,), (7, 3, 2), (0,), (50000,)]
STEPS = 6


@pytest.fixture(autouse=True)
def fused_norm_in_reference(monkeypatch):
    """The reference engine with the fused engine's per-tensor sums of squares for
    clipnorm (tests/test_fused_engine.py checks those against NumPy's), so that the
    two paths must agree bit for bit."""
    from gradstep.kernels import fused, reference

    def squares(self, grads):
        return fused.FusedEngine().squares(grads)

    monkeypatch.setattr(reference.ReferenceEngine, "squares", squares)


def _pair(name, config, dtype=torch.float32, groups=False, flatten=False):
    """A fused-engine optimizer (steady steps) and a reference-engine twin, each over
    its own copy of the same parameters."""
    made = []
    for engine in (None, "reference"):
        params = make_params(SHAPES, dtype=dtype)
        spec = (
            [{"params": params[:2]}, {"params": params[2:], "lr": 0.003}]
            if groups
            else params
        )
        opt = torch_class(name)(
            spec, engine=engine, flatten_params=flatten and engine is None, **config
        )
        made.append((params, opt))
    return made


def _assert_same(steady, general):
    (p1, o1), (p2, o2) = steady, general
    assert_bitwise(p1, p2)
    for a, b in zip(p1, p2):
        # .get: state is a defaultdict, and a new entry would leave the steady path
        s1, s2 = o1.state.get(a, {}), o2.state.get(b, {})
        assert sorted(s1) == sorted(s2)
        assert_bitwise([s1[k] for k in sorted(s1)], [s2[k] for k in sorted(s2)])
    assert [g["iterations"] for g in o1.param_groups] == [
        g["iterations"] for g in o2.param_groups
    ]


def _run(pair, grads_per_step, change=None, at=3):
    """``STEPS`` steps of both optimizers with fresh gradient tensors; ``change(params,
    opt, step_grads)`` is applied to both just before step ``at``."""
    for step, grads in enumerate(grads_per_step):
        for params, opt in pair:
            step_grads = [g.clone() for g in grads]
            if change is not None and step == at:
                change(params, opt, step_grads)
            for p, g in zip(params, step_grads):
                p.grad = g
            opt.step()
        _assert_same(*pair)


CONFIGS = all_configs()


@pytest.mark.parametrize(
    "groups,flatten",
    [(False, False), (True, False), (True, True)],
    ids=["one_group", "two_groups", "two_groups_flatten_params"],
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name,config", CONFIGS, ids=config_ids(CONFIGS))
def test_steady_steps_equal_the_general_path(name, config, dtype, groups, flatten):
    pair = _pair(name, config, dtype, groups, flatten)
    _run(pair, grad_sequence(SHAPES, STEPS, dtype=dtype))
    assert pair[0][1]._stepper.steady is not None  # the steady path was in use
    assert pair[1][1]._stepper.steady is None


def _no_gradient(params, opt, grads):
    grads[1] = None


def _non_contiguous_gradient(params, opt, grads):
    grads[0] = grads[0].t().contiguous().t()
    assert not grads[0].is_contiguous()


def _parameter_moved(params, opt, grads):
    params[2].data = params[2].data.clone()


def _slot_replaced(params, opt, grads):
    state = opt.state[params[0]]
    state["m"] = state["m"].clone()


def _slot_storage_replaced(params, opt, grads):
    slot = opt.state[params[1]]["v"]
    slot.data = slot.data.clone()  # the same tensor object, other memory


def _state_dict_of_a_parameter_replaced(params, opt, grads):
    opt.state[params[4]] = {k: v.clone() for k, v in opt.state[params[4]].items()}


def _clipping_switched_on(params, opt, grads):
    opt.clipnorm, opt.clipvalue = 0.5, 0.01


def _learning_rate_changed(params, opt, grads):
    opt.param_groups[0]["lr"] = 0.0001


def _params_reordered(params, opt, grads):
    group = opt.param_groups[0]
    group["params"] = group["params"][::-1]


def _state_reloaded(params, opt, grads):
    opt.load_state_dict(copy.deepcopy(opt.state_dict()))


def _group_added(params, opt, grads):
    extra = torch.nn.Parameter(torch.linspace(-1, 1, 9))
    extra.grad = torch.linspace(0.5, -0.5, 9)
    params.append(extra)
    grads.append(extra.grad)
    opt.add_param_group({"params": [extra]})


CHANGES = [
    _no_gradient,
    _non_contiguous_gradient,
    _parameter_moved,
    _slot_replaced,
    _slot_storage_replaced,
    _state_dict_of_a_parameter_replaced,
    _clipping_switched_on,
    _learning_rate_changed,
    _params_reordered,
    _state_reloaded,
    _group_added,
]


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__[1:] for c in CHANGES])
def test_changes_between_steps_give_the_general_result(change):
    config = {} if change is _clipping_switched_on else {"clipnorm": 10.0}
    pair = _pair("Adam", {"amsgrad": True, **config})
    _run(pair, grad_sequence(SHAPES, STEPS), change)
    assert pair[0][1]._stepper.steady is not None  # back on the steady path at the end


TORCH_NAMES = ["SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "Adamax", "Nadam"]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", TORCH_NAMES)
def test_cohorts_add_their_squares_in_parameter_order(name, dtype):
    """flavour="torch": parameter 1 skips a step, so the group steps in two cohorts
    (parameters 0, 2, 3, 4 and parameter 1) with one steady record each; clipnorm
    adds the tensors' squares in the parameters' order, as the general path does,
    not cohort by cohort."""
    config = {"flavour": "torch", "clipnorm": 0.5, "lr": 0.01}
    if name == "SGD":
        config["momentum"] = 0.9
    pair = _pair(name, config, dtype)
    _run(pair, grad_sequence(SHAPES, STEPS + 4, dtype=dtype), _no_gradient, at=1)
    assert len(pair[0][1]._stepper.steady[0][0].parts) == 2  # two cohorts, steady


def test_bad_gradient_after_steady_steps_raises_before_any_change():
    params = make_params(SHAPES)
    opt = gtorch.Adam(params)
    for grads in grad_sequence(SHAPES, 3):
        for p, g in zip(params, grads):
            p.grad = g
        opt.step()
    assert opt._stepper.steady is not None
    before = [p.detach().clone() for p in params]
    params[1].grad.data = torch.ones(31)
    with pytest.raises(ValueError, match="must match"):
        opt.step()
    params[1].grad = torch.ones(30).to_sparse()
    with pytest.raises(RuntimeError, match="sparse"):
        opt.step()
    assert_bitwise(params, before)
    assert opt.param_groups[0]["iterations"] == 3


def test_parameters_without_gradients_keep_the_steady_path():
    """A frozen parameter (never a gradient) is skipped as torch skips it, and the
    others still take steady steps; when it gets a gradient, the step leaves the
    steady path and updates it too."""
    pair = _pair("Adam", {"clipnorm": 5.0})
    steps = grad_sequence(SHAPES, STEPS)
    seen = []
    for step, grads in enumerate(steps):
        for params, opt in pair:
            for i, (p, g) in enumerate(zip(params, grads)):
                p.grad = None if i == 2 and step < 4 else g.clone()
            opt.step()
            if opt.engine == "fused":
                seen.append(opt._stepper.steady[0][0].parts[0].record)
        _assert_same(*pair)
    assert seen[0].stepped == [True, True, False, True, True]
    assert seen[1] is seen[0] and seen[3] is seen[0]  # steps 2-4 were steady
    assert seen[4] is not seen[0]  # the new gradient: a general step
    assert pair[0][1]._stepper.steady[0][0].parts[0].record.stepped is None


def test_a_frozen_group_keeps_the_steady_path():
    """A group none of whose parameters has a gradient still ages (Keras counts every
    step) and the other group's steps stay steady."""
    pair = _pair("Adam", {"decay": 0.1}, groups=True)
    seen = []
    for grads in grad_sequence(SHAPES, STEPS):
        for params, opt in pair:
            for i, (p, g) in enumerate(zip(params, grads)):
                p.grad = g.clone() if i < 2 else None  # group 1 (params 2-4) frozen
            opt.step()
            if opt.engine == "fused":
                seen.append(opt._stepper.steady[0][1].parts[0].record)
        _assert_same(*pair)
    assert seen[0].step is None and all(record is seen[0] for record in seen)
    assert [g["iterations"] for g in pair[0][1].param_groups] == [STEPS, STEPS]


def _accumulating_run(pair, grads_per_step, change=None, at=3):
    """The loop of ``zero_grad(set_to_none=False)`` then a backward: each gradient is
    added in place to whatever ``p.grad`` is (with ``flatten_params``, after the first
    step, views of the optimizer's own gradient buffer); ``change(params, opt)`` is
    applied to both just before step ``at``."""
    for step, grads in enumerate(grads_per_step):
        for params, opt in pair:
            if step:
                opt.zero_grad(set_to_none=False)
            if change is not None and step == at:
                change(params, opt)
            for p, g in zip(params, grads):
                if p.grad is None:
                    p.grad = g.clone()
                else:
                    p.grad.add_(g)
            opt.step()
        _assert_same(*pair)


def _own_views(opt):
    groups = opt._stepper.steady[0]
    return [g.parts[0].record.own for g in groups]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    "name,config",
    [("Adam", {"clipnorm": 0.05}), ("SGD", {"momentum": 0.9, "nesterov": True})]
    + [(n, {}) for n in ("RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam")],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_flatten_params_steps_on_its_own_gradient_buffer(name, config, dtype):
    """With flatten_params and zero_grad(set_to_none=False), the gradients stay views
    of the optimizer's buffer and the steady step reads its recorded table: the same
    numbers as the reference engine with fresh gradients every step."""
    pair = _pair(name, config, dtype, groups=True, flatten=True)
    _accumulating_run(pair, grad_sequence(SHAPES, STEPS, dtype=dtype))
    owns = _own_views(pair[0][1])
    assert all(own is not None for own in owns)
    for params, group_own in zip((pair[0][0][:2], pair[0][0][2:]), owns, strict=True):
        assert all(p.grad is v for p, v in zip(params, group_own.views))


def _grad_replaced(params, opt):
    params[1].grad = torch.zeros_like(params[1])


def _grad_storage_replaced(params, opt):
    params[4].grad.data = torch.zeros_like(params[4].grad)


def _grad_removed(params, opt):
    params[0].grad = None


def _grad_storage_replaced_on_a_general_step(params, opt):
    params[4].grad.data = torch.zeros_like(params[4].grad)
    params[2].data = params[2].data.clone()  # the step takes the general path


OWN_CHANGES = [
    _grad_replaced,
    _grad_storage_replaced,
    _grad_removed,
    _grad_storage_replaced_on_a_general_step,
]


@pytest.mark.parametrize(
    "change", OWN_CHANGES, ids=[c.__name__[1:] for c in OWN_CHANGES]
)
def test_changed_gradients_leave_the_own_buffer_path(change):
    """A gradient that is no longer the recorded view (another tensor, other
    memory, none) is read where it is, with the checks of any gradient."""
    pair = _pair("Adam", {"amsgrad": True}, groups=True, flatten=True)
    _accumulating_run(pair, grad_sequence(SHAPES, STEPS), change)


def test_zero_grad_without_set_to_none_fills_the_gradient_buffer(monkeypatch):
    params = make_params(SHAPES)
    opt = gtorch.Adam(params, flatten_params=True)
    for grads in grad_sequence(SHAPES, 2):
        for p, g in zip(params, grads):
            if p.grad is None:
                p.grad = g.clone()
            else:
                p.grad.add_(g)  # into the views the first step left there
        opt.step()
    views = [p.grad for p in params]
    (own,) = _own_views(opt)
    assert all(map(operator.is_, views, own.views))

    def no_loop(*args, **kwargs):
        raise AssertionError("torch's per-tensor zero_grad ran")

    monkeypatch.setattr(torch.optim.Optimizer, "zero_grad", no_loop)
    with torch.autograd.profiler.profile() as prof:
        opt.zero_grad(set_to_none=False)
    assert "Optimizer.zero_grad#Adam.zero_grad" in {
        e.name for e in prof.function_events
    }
    assert all(p.grad is v for p, v in zip(params, views))
    assert all(not v.any() for v in views)
    monkeypatch.undo()
    params[2].grad = torch.ones_like(params[2])  # another tensor: torch's loop
    opt.zero_grad(set_to_none=False)
    assert not params[2].grad.any() and params[2].grad is not views[2]
    opt.zero_grad()  # set_to_none=True: as torch
    assert all(p.grad is None for p in params)
