"""gradstep.torch against the NumPy optimizers: float32 on CPU bit for bit, the torch-ops
path, 16-bit parameters with float32 math and state, and lr schedulers with Keras decay."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gradstep.torch as gtorch  # noqa: E402
from gradstep import optimizers  # noqa: E402

from ..cases import all_configs, config_ids, optimizer_class, torch_class  # noqa: E402
from ._util import assert_bitwise, grad_sequence, make_params, numpy_copy  # noqa: E402

SHAPES = [(4, 3), (5,), (2, 2, 2)]
CONFIGS = all_configs()
IDS = config_ids(CONFIGS)


def numpy_trajectory(name, config, params, steps, engine):
    arrays = numpy_copy(params)
    opt = optimizer_class(name)(engine=engine, **config)
    for grads in steps:
        opt.apply_gradients(zip([g.numpy() for g in grads], arrays))
    return arrays, opt


def torch_trajectory(name, config, params, steps, groups=False, engine=None):
    cls = torch_class(name)
    spec = [{"params": [p]} for p in params] if groups else params
    opt = cls(spec, engine=engine, **config)
    for grads in steps:
        for p, g in zip(params, grads):
            p.grad = g.clone()
        opt.step()
    return opt


@pytest.mark.parametrize("groups", [False, True], ids=["one_group", "group_per_tensor"])
@pytest.mark.parametrize("engine", ["reference", None])
@pytest.mark.parametrize("name,config", CONFIGS, ids=IDS)
def test_float32_cpu_equals_numpy_engine_bitwise(name, config, engine, groups):
    params = make_params(SHAPES)
    steps = grad_sequence(SHAPES, 4, scale=2.0)
    expected, numpy_opt = numpy_trajectory(name, config, params, steps, engine)
    opt = torch_trajectory(name, config, params, steps, groups, engine)
    assert_bitwise(params, expected)
    names = numpy_opt.slot_names()
    for k, name_k in enumerate(names):
        assert_bitwise(
            [opt.state[p][name_k] for p in params], [s[k] for s in numpy_opt._slots]
        )
    assert all(p.dtype == torch.float32 for p in params)


@pytest.mark.parametrize("name,config", CONFIGS, ids=IDS)
def test_torch_ops_float32_matches_numpy(name, config):
    params = make_params(SHAPES)
    steps = grad_sequence(SHAPES, 4, scale=2.0)
    expected, _ = numpy_trajectory(name, config, params, steps, "reference")
    torch_trajectory(name, config, params, steps, engine="torch")
    for p, e in zip(params, expected):
        np.testing.assert_allclose(p.detach().numpy(), e, rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("name,config", CONFIGS, ids=IDS)
def test_16bit_params_use_float32_math_and_state(name, config, dtype):
    params = make_params(SHAPES, dtype=dtype)
    steps = grad_sequence(SHAPES, 3, dtype=dtype)
    # Reference: the float32 NumPy step on the upcast parameters, rounded back to 16 bits.
    arrays = [p.detach().float().numpy().copy() for p in params]
    numpy_opt = optimizer_class(name)(engine="reference", **config)
    for grads in steps:
        numpy_opt.apply_gradients(zip([g.float().numpy() for g in grads], arrays))
        for a in arrays:
            a[...] = torch.from_numpy(a).to(dtype).float().numpy()
    opt = torch_trajectory(name, config, params, steps)
    for p, a in zip(params, arrays):
        assert p.dtype == dtype
        np.testing.assert_allclose(p.detach().float().numpy(), a, rtol=1e-2, atol=1e-3)
    for p in params:
        for slot in opt.state[p].values():
            assert slot.dtype == torch.float32


def test_scheduler_composes_with_keras_decay():
    """StepLR changes group['lr']; decay still divides it by 1 + decay * iterations."""
    params = make_params(SHAPES, dtype=torch.float64)
    steps = grad_sequence(SHAPES, 7, dtype=torch.float64)
    opt = gtorch.SGD(params, lr=0.1, momentum=0.5, decay=0.2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    arrays = numpy_copy(params)
    numpy_opt = optimizers.SGD(lr=0.1, momentum=0.5, decay=0.2)
    for grads in steps:
        numpy_opt.lr = opt.param_groups[0]["lr"]
        numpy_opt.apply_gradients(zip([g.numpy() for g in grads], arrays))
        for p, g in zip(params, grads):
            p.grad = g.clone()
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == 0.1 * 0.5**3
    assert_bitwise(params, arrays)


def test_clipnorm_is_global_over_all_groups():
    """Two groups with one clipnorm give the steps of one NumPy optimizer over all."""
    params = make_params(SHAPES, dtype=torch.float64)
    steps = grad_sequence(SHAPES, 3, dtype=torch.float64, scale=5.0)
    expected, _ = numpy_trajectory("Adam", {"clipnorm": 0.5}, params, steps, None)
    opt = gtorch.Adam(
        [{"params": params[:1]}, {"params": params[1:], "lr": 0.001}], clipnorm=0.5
    )
    for grads in steps:
        for p, g in zip(params, grads):
            p.grad = g.clone()
        opt.step()
    assert_bitwise(params, expected)
