"""A torch.optim checkpoint resumed by gradstep.torch with ``flavour="torch"``: the state
dict ``torch.optim.Adam`` (SGD, NAdam, ...) wrote, after torch.save/torch.load, loads
into the gradstep.torch optimizer of the same name, and the steps after it equal
torch.optim's own continuation, through every engine; other flavours refuse it, and a
dict gradstep cannot honour raises before anything changes."""

from __future__ import annotations

import io

import pytest
import torch

import gradstep.torch as gtorch

from ._util import grad_sequence, make_params, set_grads, step_both

SHAPES = [(3, 2), (4,), (5,), (2, 1, 2)]
BEFORE, AFTER = 5, 5
CASES = [  # (torch.optim class, gradstep.torch class, keywords for both)
    ("Adam", "Adam", {"lr": 0.01}),
    ("Adam", "Adam", {"lr": 0.01, "amsgrad": True}),
    ("NAdam", "Nadam", {"lr": 0.01}),
    ("Adamax", "Adamax", {"lr": 0.01}),
    ("Adagrad", "Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("Adagrad", "Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.2}),
    ("RMSprop", "RMSprop", {"lr": 0.01}),
    ("RMSprop", "RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}),
    ("SGD", "SGD", {"lr": 0.05}),
    ("SGD", "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", "SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1}),
    ("Adadelta", "Adadelta", {"lr": 1.0}),
]
IDS = [f"{c[0]}-{'-'.join(f'{k}={v}' for k, v in c[2].items())}" for c in CASES]


def _grads(step, grads):
    """Parameter 1 has no gradient at step 2, parameter 3 none before step 1: the
    parameters' counts differ when the checkpoint is written."""
    return [
        None if (i == 1 and step == 2) or (i == 3 and step < 1) else g
        for i, g in enumerate(grads[step])
    ]


def _through_bytes(state_dict):
    buffer = io.BytesIO()
    torch.save(state_dict, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def _torch_checkpoint(torch_name, kwargs, grads):
    """torch.optim's parameters and optimizer after ``BEFORE`` steps, in groups of
    two parameters."""
    params = make_params(SHAPES, dtype=torch.float64)
    opt = getattr(torch.optim, torch_name)(
        [{"params": params[:2]}, {"params": params[2:]}], **kwargs
    )
    for step in range(BEFORE):
        set_grads(params, _grads(step, grads))
        opt.step()
    return params, opt


@pytest.mark.parametrize("engine", ["fused", "reference", "torch"])
@pytest.mark.parametrize("torch_name, name, kwargs", CASES, ids=IDS)
def test_a_torch_optim_checkpoint_resumes(
    float64_default, torch_name, name, kwargs, engine
):
    grads = grad_sequence(SHAPES, BEFORE + AFTER, dtype=torch.float64)
    params, theirs = _torch_checkpoint(torch_name, kwargs, grads)
    saved = _through_bytes(theirs.state_dict())
    ours_params = [p.detach().clone().requires_grad_() for p in params]
    ours = getattr(gtorch, name)(
        [{"params": ours_params[:2]}, {"params": ours_params[2:]}],
        flavour="torch",
        engine=engine,
        **kwargs,
    )
    ours.load_state_dict(saved)
    for p, q in zip(params, ours_params):
        if "step" in theirs.state.get(p, {}):
            assert float(ours.state[q]["step"]) == float(theirs.state[p]["step"])
    for step in range(BEFORE, BEFORE + AFTER):
        step_both([(ours_params, ours), (params, theirs)], _grads(step, grads), step)
    for p, q in zip(params, ours_params):
        if "step" in theirs.state.get(p, {}):
            assert float(ours.state[q]["step"]) == float(theirs.state[p]["step"])


def test_the_groups_keep_gradsteps_settings_and_take_torchs(float64_default):
    """What torch's groups hold is adopted (lr, betas, eps), what they lack is the
    optimizer's (clipnorm, flavour); iterations is the most steps any parameter took."""
    grads = grad_sequence(SHAPES, BEFORE, dtype=torch.float64)
    _, theirs = _torch_checkpoint("Adam", {"lr": 0.02, "betas": (0.8, 0.99)}, grads)
    ours = gtorch.Adam(
        [{"params": make_params(SHAPES[:2])}, {"params": make_params(SHAPES[2:])}],
        flavour="torch",
        clipnorm=5.0,
    )
    ours.load_state_dict(theirs.state_dict())
    first = ours.param_groups[0]
    assert (first["lr"], first["betas"], first["epsilon"]) == (0.02, (0.8, 0.99), 1e-8)
    assert (first["clipnorm"], first["flavour"]) == (5.0, "torch")
    assert [g["iterations"] for g in ours.param_groups] == [BEFORE, BEFORE]
    assert sorted(ours.state[p]["m"].shape == p.shape for p in first["params"]) == [
        True,
        True,
    ]


@pytest.mark.parametrize("flavour", ["keras22", "tf_keras", "keras3", "optax"])
def test_other_flavours_refuse_a_torch_optim_checkpoint(float64_default, flavour):
    grads = grad_sequence(SHAPES, BEFORE, dtype=torch.float64)
    params, theirs = _torch_checkpoint("Adam", {"lr": 0.01}, grads)
    ours_params = [p.detach().clone().requires_grad_() for p in params]
    ours = gtorch.Adam(
        [{"params": ours_params[:2]}, {"params": ours_params[2:]}],
        flavour=flavour,
        lr=0.01,
    )
    with pytest.raises(ValueError, match="written by torch.optim.*flavour='torch'"):
        ours.load_state_dict(theirs.state_dict())
    assert ours.state_dict()["state"] == {}


def test_a_checkpoint_gradstep_cannot_honour_changes_nothing(float64_default):
    """torch's weight decay (gradstep has none), and another optimizer's slots: a
    ValueError naming the setting or the slot under both names; nothing loaded."""
    grads = grad_sequence(SHAPES, BEFORE, dtype=torch.float64)
    _, decayed = _torch_checkpoint("Adam", {"lr": 0.01, "weight_decay": 0.1}, grads)
    _, sgd = _torch_checkpoint("SGD", {"lr": 0.01, "momentum": 0.9}, grads)
    params = make_params(SHAPES, dtype=torch.float64)
    ours = gtorch.Adam(
        [{"params": params[:2]}, {"params": params[2:]}], flavour="torch", lr=0.003
    )
    with pytest.raises(ValueError, match="weight_decay=0.1"):
        ours.load_state_dict(decayed.state_dict())
    with pytest.raises(ValueError, match="m \\(torch.optim's 'exp_avg'\\)=None"):
        ours.load_state_dict(sgd.state_dict())
    assert ours.state_dict()["state"] == {}
    assert ours.param_groups[0]["lr"] == 0.003


@pytest.mark.parametrize("torch_name, name, kwargs", CASES, ids=IDS)
def test_back_to_torch_optim(float64_default, torch_name, name, kwargs):
    """``torch_optim_state_dict``: gradstep's run, after torch.save/torch.load, resumes
    in torch.optim, and the steps after it equal gradstep's own continuation; the
    dict loads back into gradstep too."""
    grads = grad_sequence(SHAPES, BEFORE + AFTER, dtype=torch.float64)
    params = make_params(SHAPES, dtype=torch.float64)
    ours = getattr(gtorch, name)(
        [{"params": params[:2]}, {"params": params[2:]}], flavour="torch", **kwargs
    )
    for step in range(BEFORE):
        set_grads(params, _grads(step, grads))
        ours.step()
    saved = _through_bytes(gtorch.torch_optim_state_dict(ours))
    theirs_params = [p.detach().clone().requires_grad_() for p in params]
    theirs = getattr(torch.optim, torch_name)(
        [{"params": theirs_params[:2]}, {"params": theirs_params[2:]}], **kwargs
    )
    theirs.load_state_dict(saved)
    again_params = [p.detach().clone().requires_grad_() for p in params]
    again = getattr(gtorch, name)(
        [{"params": again_params[:2]}, {"params": again_params[2:]}],
        flavour="torch",
        **kwargs,
    )
    again.load_state_dict(saved)
    for step in range(BEFORE, BEFORE + AFTER):
        set_grads(again_params, _grads(step, grads))
        again.step()
        step_both([(theirs_params, theirs), (params, ours)], _grads(step, grads), step)
        for i, (a, b) in enumerate(zip(again_params, params)):
            torch.testing.assert_close(a, b, rtol=0, atol=0, msg=f"{step}, {i}")


def test_going_back_refuses_what_torch_optim_has_not(float64_default):
    params = make_params(SHAPES, dtype=torch.float64)
    cases = [
        (gtorch.Adam(params, lr=0.01), "flavour='keras22'"),
        (gtorch.Adam(params, flavour="torch", clipnorm=1.0), "clipnorm=1.0.*clip_grad"),
        (gtorch.Adam(params, flavour="torch", decay=0.1), "decay=0.1.*LambdaLR"),
    ]
    for opt, message in cases:
        with pytest.raises(ValueError, match=message):
            gtorch.torch_optim_state_dict(opt)


def test_going_back_copies_every_tensor(float64_default):
    """torch's loader keeps a tensor of the right dtype and device as it is: the dict
    holds copies, so the two optimizers never share a slot or a count."""
    params = make_params(SHAPES, dtype=torch.float64)
    ours = gtorch.Nadam(params, flavour="torch", flatten_params=True)
    set_grads(params, grad_sequence(SHAPES, 1, dtype=torch.float64)[0])
    ours.step()
    exported = gtorch.torch_optim_state_dict(ours)
    mine = [v for slots in ours.state.values() for v in slots.values()]
    theirs = [v for slots in exported["state"].values() for v in slots.values()]
    assert sorted(exported["state"][0]) == [
        "exp_avg",
        "exp_avg_sq",
        "mu_product",
        "step",
    ]
    pointers = {t.untyped_storage().data_ptr() for t in mine}
    assert not pointers & {t.untyped_storage().data_ptr() for t in theirs}
    steps = [slots["step"] for slots in exported["state"].values()]
    assert len({id(t) for t in steps}) == len(steps)  # torch adds 1 to each
