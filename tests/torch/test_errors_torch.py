"""Bad input to gradstep.torch: each error is specific and raised before any change."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import gradstep.torch as gtorch  # noqa: E402

from ._util import assert_bitwise, make_params  # noqa: E402


def test_sparse_gradients_are_rejected():
    emb = torch.nn.Embedding(10, 3, sparse=True)
    opt = gtorch.Adam(emb.parameters())
    emb(torch.tensor([1, 2])).sum().backward()
    before = emb.weight.detach().clone()
    with pytest.raises(RuntimeError, match="does not support sparse gradients"):
        opt.step()
    assert_bitwise([emb.weight], [before])
    assert opt.param_groups[0]["iterations"] == 0


def test_a_group_spanning_devices_steps_each_device_by_its_own_path():
    # No GPU here: the "meta" device stands for a second device (torch operations, no
    # values). The CPU tensor must get exactly the CPU-only result, also after a
    # parameter of the group is swapped for one on the other device between steps.
    a, b = make_params([(3,), (2,)])
    (alone,) = [a.detach().clone().requires_grad_()]
    meta = torch.nn.Parameter(torch.zeros(2, device="meta"))
    opt = gtorch.SGD([a, meta], lr=0.1, momentum=0.9)
    ref = gtorch.SGD([alone], lr=0.1, momentum=0.9)
    for step in range(3):
        if step == 2:
            opt.param_groups[0]["params"].append(b)
            b.grad = torch.ones(2)
        a.grad, alone.grad = torch.ones(3), torch.ones(3)
        meta.grad = torch.ones(2, device="meta")
        opt.step()
        ref.step()
    assert_bitwise([a], [alone])
    assert opt.state[meta]["moment"].device.type == "meta"
    assert opt.state[meta]["moment"].shape == (2,)
    assert opt.param_groups[0]["iterations"] == 3


def test_duplicated_parameters():
    (p,) = make_params([(3,)])
    with pytest.raises(
        ValueError, match="parameter 1 is the same tensor as parameter 0"
    ):
        gtorch.Adam([p, p])
    opt = gtorch.Adam([p])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [p]})


def test_bad_hyperparameters_name_the_argument():
    params = make_params([(3,)])
    with pytest.raises(ValueError, match=r"beta_1 must be in \[0, 1\), got 1.5"):
        gtorch.Adam(params, beta_1=1.5)
    with pytest.raises(ValueError, match="lr must be"):
        gtorch.SGD(params, lr=-1)
    with pytest.raises(TypeError, match="decay"):
        gtorch.Nadam(params, decay=0.1)
    with pytest.raises(ValueError, match="Adam has no 'alpha'"):
        gtorch.Adam(params, alpha=0.9)
    with pytest.raises(ValueError, match="clipnorm"):
        gtorch.Adam(params, clipnorm=-1.0)
    with pytest.raises(ValueError, match="engine"):
        gtorch.Adam(params, engine="cuda")
    with pytest.raises(ValueError, match="clipnorm_group"):
        gtorch.Adam(params, clipnorm_group="everyone")
    opt = gtorch.Adam(params)
    with pytest.raises(ValueError, match="param group 1: epsilon must be"):
        opt.add_param_group({"params": make_params([(2,)]), "epsilon": float("nan")})
    assert len(opt.param_groups) == 1


def test_invalid_group_value_set_later_raises_before_any_change():
    a, b = make_params([(3,), (2,)])
    opt = gtorch.Adam([{"params": [a]}, {"params": [b]}])
    a.grad, b.grad = torch.ones(3), torch.ones(2)
    opt.step()
    before = [a.detach().clone(), b.detach().clone()]
    opt.param_groups[1]["betas"] = (0.9, 1.0)
    with pytest.raises(ValueError, match=r"param group 1: beta_2 must be in \[0, 1\)"):
        opt.step()
    assert_bitwise([a, b], before)
    assert [g["iterations"] for g in opt.param_groups] == [1, 1]


def test_non_float_parameters():
    with pytest.raises(TypeError, match="floating point"):
        gtorch.SGD([torch.zeros(3, dtype=torch.int64)])


def test_gradient_shape_mismatch():
    (p,) = make_params([(3,)])
    opt = gtorch.SGD([p])
    p.grad = torch.ones(3)
    p.grad.data = torch.ones(4)
    with pytest.raises(ValueError, match="must match"):
        opt.step()


def test_loading_a_torch_optim_state_dict_is_refused():
    """Keras 2.2's Adam is not torch's: only flavour="torch" takes torch.optim's dict
    (tests/torch/test_torch_optim_checkpoint.py)."""
    params = make_params([(3,)])
    theirs = torch.optim.Adam(params)
    params[0].grad = torch.ones(3)
    theirs.step()
    ours = gtorch.Adam(params)
    with pytest.raises(
        ValueError,
        match="written by torch.optim .* flavour='torch', whose numerics it holds; "
        "this optimizer has flavour='keras22'",
    ):
        ours.load_state_dict(theirs.state_dict())
    assert ours.state_dict()["state"] == {}


def test_loading_state_of_wrong_shape_is_refused():
    (p,) = make_params([(3,)])
    opt = gtorch.Adam([p])
    p.grad = torch.ones(3)
    opt.step()
    saved = opt.state_dict()
    saved["state"][0]["m"] = torch.zeros(4)
    other = gtorch.Adam(make_params([(3,)]))
    with pytest.raises(
        ValueError, match=r"expected a dense float tensor of shape \(3,\)"
    ):
        other.load_state_dict(saved)
