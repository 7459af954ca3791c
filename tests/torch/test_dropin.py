"""gradstep.torch as a drop-in for torch.optim (issue 17): torch's schedulers, argument
names, tensor lr, clipping in defaults and state dicts, ``state[p]["step"]``, load
pre-hooks, and state dicts that must be refused before anything changes."""

from __future__ import annotations

import importlib
import io
import math
import warnings

import pytest
import torch

import gradstep.torch as gtorch

from ._util import assert_bitwise, make_params, set_grads

SHAPES = [(3, 2), (4,)]
BETA_CLASSES = ["Adam", "Adamax", "Nadam"]


def _grads(seed, n=SHAPES):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(*s, generator=gen) for s in n]


@pytest.mark.parametrize("name", BETA_CLASSES)
@pytest.mark.parametrize("scheduler", ["OneCycleLR", "CyclicLR"])
def test_cycle_momentum_schedulers_drive_beta_1(name, scheduler):
    # torch's schedulers cycle group["betas"][0]; each step must use the value they
    # set: the same as an optimizer rebuilt with those (lr, beta_1) each step.
    cls = getattr(gtorch, name)
    params = make_params(SHAPES)
    twin = [p.detach().clone().requires_grad_() for p in params]
    opt = cls(params, lr=0.01)
    kwargs = {"max_lr": 0.05, "cycle_momentum": True}
    if scheduler == "OneCycleLR":
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, total_steps=6, **kwargs)
    else:
        sched = torch.optim.lr_scheduler.CyclicLR(
            opt, base_lr=0.01, step_size_up=2, **kwargs
        )
    mirror = cls(twin, lr=0.01)
    seen = set()
    for step in range(5):
        lr, betas = opt.param_groups[0]["lr"], opt.param_groups[0]["betas"]
        seen.add(betas[0])
        mirror.param_groups[0]["lr"] = lr
        mirror.param_groups[0]["betas"] = tuple(betas)
        grads = _grads(step)
        set_grads(params, grads)
        set_grads(twin, grads)
        opt.step()
        mirror.step()
        sched.step()
    assert len(seen) >= 3  # beta_1 really moved
    assert_bitwise(params, twin)
    assert (
        opt.keras_for(opt.param_groups[0], 0).beta_1 == opt.param_groups[0]["betas"][0]
    )


@pytest.mark.parametrize("name", BETA_CLASSES)
def test_betas_is_the_one_source_of_beta_1_and_beta_2(name):
    cls = getattr(gtorch, name)
    a = cls(make_params(SHAPES), betas=(0.8, 0.95))
    b = cls(make_params(SHAPES), beta_1=0.8, beta_2=0.95)
    assert a.defaults == b.defaults and a.defaults["betas"] == (0.8, 0.95)
    assert "beta_1" not in a.param_groups[0]
    assert cls(make_params(SHAPES), beta_2=0.9).defaults["betas"][1] == 0.9
    with pytest.raises(ValueError, match="are one setting"):
        cls(make_params(SHAPES), betas=(0.8, 0.95), beta_1=0.7)
    with pytest.raises(ValueError, match=r"beta_2 must be in \[0, 1\)"):
        cls(make_params(SHAPES), betas=(0.8, 1.0))
    with pytest.raises(ValueError, match="betas must be a pair"):
        cls(make_params(SHAPES), betas=0.9)
    # a stray Keras name in a group that disagrees is refused at the step
    opt = cls(make_params(SHAPES))
    opt.param_groups[0]["beta_1"] = 0.5
    before = [p.detach().clone() for p in opt.param_groups[0]["params"]]
    set_grads(opt.param_groups[0]["params"], _grads(0))
    with pytest.raises(ValueError, match="disagrees with betas"):
        opt.step()
    assert_bitwise(opt.param_groups[0]["params"], before)


def test_torch_argument_names_map_to_keras_ones():
    p = make_params(SHAPES)
    pairs = [
        ("RMSprop", {"alpha": 0.8, "eps": 1e-6}, {"rho": 0.8, "epsilon": 1e-6}),
        ("Nadam", {"momentum_decay": 0.01}, {"schedule_decay": 0.01}),
        ("Adagrad", {"initial_accumulator_value": 0.0}, {}),
        ("Adam", {"learning_rate": 0.1}, {"lr": 0.1}),
    ]
    for name, torch_names, keras_names in pairs:
        cls = getattr(gtorch, name)
        assert cls(p, **torch_names).defaults == cls(p, **keras_names).defaults
    opt = gtorch.RMSprop(p)
    opt.add_param_group({"params": make_params([(2,)]), "alpha": 0.5})
    assert opt.param_groups[1]["rho"] == 0.5 and "alpha" not in opt.param_groups[1]
    with pytest.raises(ValueError, match="eps=0.1 and epsilon=0.2 are one setting"):
        gtorch.Adam(p, eps=0.1, epsilon=0.2)
    with pytest.raises(ValueError, match="accumulators start at 0"):
        gtorch.Adagrad(p, initial_accumulator_value=0.1)


@pytest.mark.parametrize(
    "name, value, hint",
    [
        ("weight_decay", 0.01, "no weight decay"),
        ("foreach", True, "engine="),
        ("fused", True, "engine='fused'"),
        ("maximize", True, "negate the loss"),
        ("capturable", True, "host"),
        ("differentiable", True, "no_grad"),
    ],
)
def test_torch_only_flags_accepted_off_refused_on(name, value, hint):
    p = make_params(SHAPES)
    for off in (False, None, 0):
        opt = gtorch.Adam(p, **{name: off})
        assert name not in opt.defaults
    with pytest.raises(
        ValueError, match=f"{name}={value!r} is not supported: .*{hint}"
    ):
        gtorch.Adam(p, **{name: value})
    opt = gtorch.Adam(p)
    with pytest.raises(ValueError, match=f"param group 1: {name}"):
        opt.add_param_group({"params": make_params([(2,)]), name: value})
    assert len(opt.param_groups) == 1


def test_tensor_lr_in_constructor_as_in_a_group():
    params = make_params(SHAPES)
    twin = [p.detach().clone().requires_grad_() for p in params]
    lr = torch.tensor(0.01)
    opt = gtorch.Adam(params, lr=lr)
    assert opt.param_groups[0]["lr"] is lr
    ref = gtorch.Adam(twin, lr=0.01)
    for step in range(2):
        grads = _grads(step)
        set_grads(params, grads)
        set_grads(twin, grads)
        opt.step()
        ref.step()
    assert_bitwise(params, twin)
    gtorch.SGD(make_params(SHAPES), lr=torch.tensor([0.1]))  # 1 element: accepted
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        gtorch.SGD(make_params(SHAPES), lr=torch.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        opt.add_param_group({"params": make_params([(2,)]), "lr": torch.ones(2)})
    with pytest.raises(ValueError, match="lr must be"):
        gtorch.SGD(make_params(SHAPES), lr=torch.tensor(float("nan")))


def test_clipping_is_in_defaults_and_state_dict():
    params = make_params(SHAPES)
    opt = gtorch.Adam(params, lr=0.1, clipnorm=0.5, clipvalue=0.1)
    assert opt.defaults["clipnorm"] == 0.5 and opt.defaults["clipvalue"] == 0.1
    rebuilt = type(opt)(make_params(SHAPES), **opt.defaults)
    assert (rebuilt.clipnorm, rebuilt.clipvalue) == (0.5, 0.1)
    set_grads(params, _grads(0, SHAPES))
    opt.step()
    saved = opt.state_dict()
    assert saved["param_groups"][0]["clipnorm"] == 0.5
    # loading adopts the dict's clipping, as every other hyperparameter
    other = gtorch.Adam(make_params(SHAPES), lr=0.1)
    other.load_state_dict(saved)
    assert (other.clipnorm, other.clipvalue) == (0.5, 0.1)
    # one global setting: every group, set on the optimizer
    opt.add_param_group({"params": make_params([(2,)])})
    opt.clipnorm = 2.0
    assert [g["clipnorm"] for g in opt.param_groups] == [2.0, 2.0]
    with pytest.raises(ValueError, match="clipnorm must be"):
        opt.clipnorm = -1.0
    with pytest.raises(ValueError, match="clipping is one global setting"):
        opt.add_param_group({"params": make_params([(2,)]), "clipnorm": 3.0})
    opt.param_groups[1]["clipvalue"] = 7.0
    with pytest.raises(ValueError, match="param group 1 has clipvalue=7.0"):
        opt.step()


def test_clipping_from_an_older_state_dict_keeps_the_optimizers():
    params = make_params(SHAPES)
    opt = gtorch.SGD(params, clipnorm=1.0)
    saved = opt.state_dict()
    for group in saved["param_groups"]:
        del group["clipnorm"], group["clipvalue"]
    opt.load_state_dict(saved)
    assert opt.clipnorm == 1.0


def test_state_step_mirrors_iterations_through_save_and_load():
    params = make_params(SHAPES)
    opt = gtorch.Adam(params)
    for step in range(3):
        set_grads(params, _grads(step))
        opt.step()  # the second and third: the steady path
    for p in params:
        step = opt.state[p]["step"]
        assert step.dtype == torch.float32 and step.device.type == "cpu"
        assert step.dim() == 0 and step.item() == 3.0
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)
    other = gtorch.Adam(make_params(SHAPES))
    other.load_state_dict(torch.load(buffer, weights_only=True))
    other_params = other.param_groups[0]["params"]
    assert other.state[other_params[0]]["step"].item() == 3.0
    set_grads(other_params, _grads(9))
    other.step()
    assert [other.state[p]["step"].item() for p in other_params] == [4.0, 4.0]
    assert other.param_groups[0]["iterations"] == 4
    bad = opt.state_dict()
    bad["state"][0]["step"] = torch.tensor(7.0)
    with pytest.raises(ValueError, match="step mirrors iterations"):
        other.load_state_dict(bad)


def test_load_pre_hooks_run_before_validation():
    params = make_params(SHAPES)
    opt = gtorch.Adam(params)
    set_grads(params, _grads(0))
    opt.step()
    saved = opt.state_dict()
    legacy = {  # an old layout: Keras names, "moments" for "m"
        "state": {
            k: {"moments": v["m"], "v": v["v"]} for k, v in saved["state"].items()
        },
        "param_groups": [
            {
                **{k: v for k, v in g.items() if k != "betas"},
                "beta_1": g["betas"][0],
                "beta_2": g["betas"][1],
            }
            for g in saved["param_groups"]
        ],
    }
    calls = []

    def migrate(optimizer, state_dict):
        calls.append("pre")
        state = {
            k: {"m": v["moments"], "v": v["v"]} for k, v in state_dict["state"].items()
        }
        return {**state_dict, "state": state}

    other = gtorch.Adam(make_params(SHAPES))
    other.register_load_state_dict_pre_hook(migrate)
    other.register_load_state_dict_post_hook(lambda o: calls.append("post"))
    other.load_state_dict(legacy)
    assert calls == ["pre", "post"]
    assert other.param_groups[0]["betas"] == saved["param_groups"][0]["betas"]
    ps = other.param_groups[0]["params"]
    assert_bitwise(
        [other.state[p]["m"] for p in ps], [saved["state"][i]["m"] for i in (0, 1)]
    )


def _corrupt(saved, where, key, value):
    bad = {
        "state": {k: dict(v) for k, v in saved["state"].items()},
        "param_groups": [dict(g) for g in saved["param_groups"]],
    }
    target = bad["param_groups"][0] if where == "group" else bad["state"][0]
    target[key] = value
    return bad


@pytest.mark.parametrize(
    "where, key, value, message",
    [
        ("group", "m_schedule", float("nan"), "m_schedule=nan"),
        ("group", "m_schedule", "0.5", "m_schedule='0.5'"),
        ("group", "m_schedule", 1.5, "m_schedule=1.5"),
        ("group", "iterations", 2**63, "iterations="),
        ("group", "iterations", 1.5, "iterations=1.5"),
        ("group", "iterations", -1, "iterations=-1"),
        ("group", "iterations", True, "iterations=True"),
        ("group", "lr", float("inf"), "lr must be"),
        ("group", "betas", (0.9, float("nan")), "beta_2 must be"),
        ("group", "clipnorm", -2.0, "clipnorm must be"),
        ("slot", "m", torch.zeros(3, 2, dtype=torch.complex64), "dense float"),
        ("slot", "m", torch.zeros(3, 2, dtype=torch.int64), "dense float"),
        ("slot", "m", torch.zeros(2, 3), "dense float tensor of shape"),
        ("slot", "v", "zeros", "dense float"),
        ("slot", "step", torch.tensor(float("nan")), "step mirrors"),
        ("slot", "step", "1", "step mirrors"),
    ],
)
def test_a_bad_state_dict_changes_nothing(where, key, value, message):
    params = make_params(SHAPES)
    opt = gtorch.Nadam(params)
    set_grads(params, _grads(0))
    opt.step()
    saved = opt.state_dict()
    other_params = make_params(SHAPES, seed=3)
    other = gtorch.Nadam(other_params)
    set_grads(other_params, _grads(1))
    other.step()
    before_groups = [dict(g) for g in other.param_groups]
    before_state = {
        p: {k: v.clone() for k, v in s.items()} for p, s in other.state.items()
    }
    before_params = [p.detach().clone() for p in other_params]
    with pytest.raises((ValueError, TypeError), match=message):
        other.load_state_dict(_corrupt(saved, where, key, value))
    assert [dict(g) for g in other.param_groups] == before_groups
    for p, slots in before_state.items():
        assert_bitwise(list(other.state[p].values()), list(slots.values()))
    set_grads(other_params, _grads(2))
    other.step()  # still steps, and stays finite
    assert all(torch.isfinite(p).all() for p in other_params)
    assert not any(torch.equal(a, b) for a, b in zip(other_params, before_params))


def test_a_bad_m_schedule_set_in_a_group_is_refused_at_the_step():
    params = make_params(SHAPES)
    opt = gtorch.Nadam(params)
    opt.param_groups[0]["m_schedule"] = float("nan")
    set_grads(params, _grads(0))
    before = [p.detach().clone() for p in params]
    with pytest.raises(ValueError, match="param group 0: m_schedule=nan"):
        opt.step()
    assert_bitwise(params, before)
    assert opt.param_groups[0]["iterations"] == 0


def test_torch_compile_of_a_training_step_has_no_warnings():
    with warnings.catch_warnings():  # torch's own import-time deprecations
        warnings.simplefilter("ignore")
        importlib.import_module("torch._inductor.compile_fx")
    model = torch.nn.Linear(4, 2)
    opt = gtorch.Adam(model.parameters(), lr=torch.tensor(0.01))
    x = torch.randn(8, 4)

    @torch.compile
    def train_step():
        loss = model(x).square().mean()
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        losses = [float(train_step().detach()) for _ in range(3)]
    assert [str(w.message) for w in caught] == []
    assert all(math.isfinite(v) for v in losses) and losses[2] < losses[0]
    assert opt.param_groups[0]["iterations"] == 3


def test_clipnorm_is_global_across_the_paths_of_one_group():
    # One group, two paths: a float32 tensor (fused kernels) and a float16 one (torch
    # operations, as on another device). The norm must cover both.
    import numpy as np

    from gradstep.optimizers import SGD

    p32, p16 = make_params([(5,), (3,)])
    p16 = torch.nn.Parameter(p16.detach().to(torch.float16))
    g32, g16 = torch.full((5,), 0.3), torch.full((3,), 2.0, dtype=torch.float16)
    p32.grad, p16.grad = g32.clone(), g16.clone()
    start = [p32.detach().numpy().copy(), p16.detach().float().numpy()]
    gtorch.SGD([p32, p16], lr=0.1, clipnorm=0.5).step()

    def numpy_step(arrays, grads):
        arrays = [a.copy() for a in arrays]
        SGD(lr=0.1, clipnorm=0.5, engine="reference").apply_gradients(
            list(zip(grads, arrays))
        )
        return arrays

    both = numpy_step(start, [g32.numpy(), g16.float().numpy()])
    alone = numpy_step(start[:1], [g32.numpy()])
    np.testing.assert_allclose(p32.detach().numpy(), both[0], rtol=1e-6)
    assert not np.allclose(p32.detach().numpy(), alone[0], rtol=1e-3)


@pytest.mark.parametrize("name", ["RMSprop", "Adadelta"])
def test_rho_must_be_below_one(name):
    cls = getattr(gtorch, name)
    for bad in (1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match=r"rho must be in \[0, 1\)"):
            cls(make_params(SHAPES), rho=bad)
    if name == "RMSprop":
        with pytest.raises(ValueError, match=r"rho must be in \[0, 1\)"):
            cls(make_params(SHAPES), alpha=1.0)
    # rho=0 (no history) is allowed: the same steps as the reference engine
    params = make_params(SHAPES)
    twin = [p.detach().clone().requires_grad_() for p in params]
    opt, ref = cls(params, rho=0.0), cls(twin, rho=0.0, engine="reference")
    for step in range(2):
        set_grads(params, _grads(step))
        set_grads(twin, _grads(step))
        opt.step()
        ref.step()
    assert_bitwise(params, twin)
    assert all(torch.isfinite(p).all() for p in params)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Nadam"])
def test_grad_scaler_steps_and_skips_as_with_torch_optim(name, float64_default):
    """torch.amp.GradScaler (CPU): unscale_, clip_grad_norm_ in between, scaler.step,
    and a step with an inf loss skipped (parameters and step count untouched, the
    scale halved), float64: the same parameters, state and scale as torch.optim."""
    kwargs = {"lr": 0.01, **({"momentum": 0.9} if name in ("SGD", "RMSprop") else {})}
    torch_name = "NAdam" if name == "Nadam" else name

    def run(make):
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 3).double()
        opt = make(model.parameters())
        scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10)
        for step in range(6):
            loss = model(torch.randn(8, 4, dtype=torch.float64)).pow(2).mean()
            if step == 2:
                loss = loss * math.inf
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            scaler.step(opt)
            scaler.update()
            opt.zero_grad()
        steps = [float(opt.state[p].get("step", -1)) for p in model.parameters()]
        return list(model.parameters()), scaler.get_scale(), steps

    ours = run(lambda p: getattr(gtorch, name)(p, flavour="torch", **kwargs))
    theirs = run(lambda p: getattr(torch.optim, torch_name)(p, **kwargs))
    for a, b in zip(ours[0], theirs[0]):
        torch.testing.assert_close(a.detach(), b.detach(), rtol=1e-12, atol=0)
    assert ours[1] == theirs[1] == 2.0**9  # halved once, by the skipped step
    if name != "SGD":  # torch's SGD keeps no step count
        assert ours[2] == theirs[2] == [5.0, 5.0]
