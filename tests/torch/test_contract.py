"""The torch.optim contract: state_dict round trips (bitwise, in a fresh process),
schedulers after load, closures, None gradients, add_param_group, zero_grad."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gradstep.torch as gtorch  # noqa: E402
from gradstep import optimizers  # noqa: E402

from ..cases import CASES, torch_class  # noqa: E402
from ._util import assert_bitwise, grad_sequence, make_params, numpy_copy  # noqa: E402

RESUME_SHAPES = [(3, 4), (4,), (2, 3)]
# The last (richest) configuration of every optimizer.
RESUME_CONFIGS = {name: cases.configs[-1] for name, cases in CASES.items()}


def build_resumable(name, params):
    """Two param groups (the second with its own lr) and a StepLR scheduler."""
    opt = torch_class(name)(
        [{"params": params[:2]}, {"params": params[2:], "lr": 0.003}],
        **RESUME_CONFIGS[name],
    )
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.7)
    return opt, sched


def train(opt, sched, params, shapes, steps):
    every = grad_sequence(shapes, 10, seed=3, scale=3.0)
    for s in steps:
        for p, g in zip(params, every[s]):
            p.grad = g.clone()
        opt.step()
        sched.step()


def test_state_dict_round_trip_in_fresh_process_is_bitwise(tmp_path):
    """N + M steps straight == N steps, torch.save, torch.load(weights_only=True) in a new
    process, M steps: parameters bit for bit (with a scheduler, two groups, decay)."""
    first, total, names = 4, 9, sorted(RESUME_CONFIGS)
    straight = {}
    for name in names:
        straight[name] = make_params(RESUME_SHAPES)
        opt, sched = build_resumable(name, straight[name])
        train(opt, sched, straight[name], RESUME_SHAPES, range(total))

        params = make_params(RESUME_SHAPES)
        opt, sched = build_resumable(name, params)
        train(opt, sched, params, RESUME_SHAPES, range(first))
        (tmp_path / name).mkdir()
        torch.save([p.detach() for p in params], tmp_path / name / "params.pt")
        torch.save(opt.state_dict(), tmp_path / name / "opt.pt")
        torch.save(sched.state_dict(), tmp_path / name / "sched.pt")
    worker = Path(__file__).with_name("_resume_worker.py")
    done = subprocess.run(
        [sys.executable, str(worker), str(tmp_path), str(first), str(total), *names],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    for name in names:
        resumed = torch.load(tmp_path / name / "resumed.pt", weights_only=True)
        assert_bitwise(resumed, straight[name])


def test_load_state_dict_in_process_restores_counters_scalars_and_lr():
    params = make_params(RESUME_SHAPES)
    opt, sched = build_resumable("nadam", params)
    train(opt, sched, params, RESUME_SHAPES, range(3))
    saved = opt.state_dict()
    other, other_sched = build_resumable("nadam", make_params(RESUME_SHAPES))
    other.load_state_dict(saved)
    other_sched.load_state_dict(sched.state_dict())
    for a, b in zip(opt.param_groups, other.param_groups):
        assert a["iterations"] == b["iterations"] == 3
        assert a["m_schedule"] == b["m_schedule"] != 1.0
        assert a["lr"] == b["lr"]
    # the loaded state is a copy: training on does not change the dict it came from
    before = [t.clone() for t in saved["state"][0].values()]
    train(
        other,
        other_sched,
        list(other.param_groups[0]["params"]),
        RESUME_SHAPES[:2],
        [3],
    )
    assert_bitwise(list(saved["state"][0].values()), before)


def test_load_casts_state_to_param_dtype():
    p64 = make_params([(3,)], dtype=torch.float64)
    opt = gtorch.Adam(p64)
    p64[0].grad = torch.ones(3, dtype=torch.float64)
    opt.step()
    p32 = make_params([(3,)], dtype=torch.float32)
    opt32 = gtorch.Adam(p32)
    opt32.load_state_dict(opt.state_dict())
    assert opt32.state[p32[0]]["m"].dtype == torch.float32
    np.testing.assert_array_equal(
        opt32.state[p32[0]]["m"].numpy(), np.full(3, 0.1, np.float32)
    )
    p16 = [torch.nn.Parameter(torch.zeros(3, dtype=torch.bfloat16))]
    opt16 = gtorch.Adam(p16)
    opt16.load_state_dict(opt.state_dict())
    assert opt16.state[p16[0]]["v"].dtype == torch.float32


def test_closure_runs_with_grad_and_returns_loss():
    params = make_params([(3,)], dtype=torch.float64)
    target = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    opt = gtorch.RMSprop(params, lr=0.01)

    def closure():
        opt.zero_grad()
        loss = ((params[0] - target) ** 2).sum()
        loss.backward()
        return loss

    arrays = numpy_copy(params)
    expected_grad = 2 * (arrays[0] - target.numpy())
    expected_loss = float(((arrays[0] - target.numpy()) ** 2).sum())
    loss = opt.step(closure)
    assert loss.requires_grad  # the closure ran with gradients enabled
    assert loss.detach().item() == pytest.approx(expected_loss, rel=1e-15)
    optimizers.RMSprop(lr=0.01).apply_gradients([(expected_grad, arrays[0])])
    assert_bitwise(params, arrays)


def test_none_gradients_are_skipped():
    params = make_params(RESUME_SHAPES)
    alone = make_params(RESUME_SHAPES)
    opt = gtorch.Adam(params, decay=0.1)
    opt_alone = gtorch.Adam([alone[0], alone[2]], decay=0.1)
    untouched = params[1].detach().clone()
    for grads in grad_sequence(RESUME_SHAPES, 3):
        for p, g in zip(params, [grads[0], None, grads[2]]):
            p.grad = None if g is None else g.clone()
        alone[0].grad, alone[2].grad = grads[0].clone(), grads[2].clone()
        opt.step()
        opt_alone.step()
    assert_bitwise(params[1:2], [untouched])
    assert params[1] not in opt.state
    assert_bitwise([params[0], params[2]], [alone[0], alone[2]])


def test_add_param_group_fills_defaults_and_counts_from_zero():
    params = make_params(RESUME_SHAPES, dtype=torch.float64)
    opt = gtorch.Adam(params[:2], lr=0.01, beta_2=0.99)
    fresh = gtorch.Adam(
        [params[2].detach().clone().requires_grad_()], lr=0.02, beta_2=0.99
    )
    steps = grad_sequence(RESUME_SHAPES, 4, dtype=torch.float64)
    for i, grads in enumerate(steps):
        if i == 2:
            opt.add_param_group({"params": [params[2]], "lr": 0.02})
        for p, g in zip(params, grads):
            p.grad = g.clone()
        fresh.param_groups[0]["params"][0].grad = grads[2].clone()
        opt.step()
        if i >= 2:
            fresh.step()
    group = opt.param_groups[1]
    assert (
        group["betas"] == (0.9, 0.99)
        and group["epsilon"] == 1e-7
        and group["iterations"] == 2
    )
    assert opt.param_groups[0]["iterations"] == 4
    assert_bitwise([params[2]], fresh.param_groups[0]["params"])


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    params = make_params([(3,), (2,)])
    opt = gtorch.Adagrad(params)
    for p in params:
        p.grad = torch.ones_like(p)
    opt.zero_grad(set_to_none=set_to_none)
    for p in params:
        if set_to_none:
            assert p.grad is None
        else:
            assert_bitwise([p.grad], [torch.zeros_like(p)])


def test_state_layout_is_flat_per_group_and_dtype():
    params = make_params(RESUME_SHAPES)
    opt = gtorch.Adam(params)
    for p in params:
        p.grad = torch.ones_like(p)
    opt.step()
    for name in ("m", "v"):
        slots = [opt.state[p][name] for p in params]
        base = slots[0].untyped_storage().data_ptr()
        assert all(s.untyped_storage().data_ptr() == base for s in slots)
        offsets = [s.storage_offset() for s in slots]
        assert offsets == [0, 12, 16]


def test_flatten_params_one_buffer_same_results():
    """flatten_params: the parameters become views of one buffer (the Parameters stay
    the same objects), and so do the gradients of the first step (later steps read
    them where they are); results equal the unflattened optimizer's."""
    shapes = [(3, 4), (4,), (2, 3), (5,)]
    plain, flat = make_params(shapes, torch.float64), make_params(shapes, torch.float64)
    ids = [id(p) for p in flat]
    opts = [
        gtorch.Adam(plain, clipnorm=1.0, amsgrad=True),
        gtorch.Adam(flat, clipnorm=1.0, amsgrad=True, flatten_params=True),
    ]
    assert [id(p) for p in flat] == ids
    storage = flat[0].untyped_storage().data_ptr()
    assert all(p.untyped_storage().data_ptr() == storage for p in flat)
    for i, grads in enumerate(grad_sequence(shapes, 5, dtype=torch.float64, scale=2.0)):
        for params, opt in zip((plain, flat), opts):
            if i % 2:  # accumulate into the existing gradients, as backward() does
                opt.zero_grad(set_to_none=False)
                for p, g in zip(params, grads):
                    p.grad.add_(g)
            else:
                for p, g in zip(params, grads):
                    p.grad = g.clone()
            opt.step()
        if i == 0:
            storage = flat[0].grad.untyped_storage().data_ptr()
            assert all(p.grad.untyped_storage().data_ptr() == storage for p in flat)
    for a, b in zip(plain, flat):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-13)


def test_deepcopy_continues_identically():
    import copy

    params = make_params(RESUME_SHAPES)
    opt = gtorch.Nadam(params, clipnorm=1.0)
    steps = grad_sequence(RESUME_SHAPES, 4)
    for p, g in zip(params, steps[0]):
        p.grad = g.clone()
    opt.step()
    params2, opt2 = copy.deepcopy((params, opt))
    assert opt2.clipnorm == 1.0 and opt2.param_groups[0]["params"][0] is params2[0]
    for grads in steps[1:]:
        for ps, o in ((params, opt), (params2, opt2)):
            for p, g in zip(ps, grads):
                p.grad = g.clone()
            o.step()
    assert_bitwise(params2, params)
