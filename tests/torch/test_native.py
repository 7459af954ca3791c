"""TorchOptimizer: torch.optim optimizers training NumPy weights through zero-copy views."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gradstep.torch as gtorch  # noqa: E402
from gradstep import optimizers  # noqa: E402
from gradstep.optimizers.native import TorchOptimizer  # noqa: E402

from ._util import assert_bitwise  # noqa: E402


def weights():
    rng = np.random.default_rng(0)
    return [
        rng.standard_normal((3, 4)).astype(np.float32),
        rng.standard_normal(4).astype(np.float32),
    ]


def gradients(step):
    rng = np.random.default_rng(100 + step)
    return [
        rng.standard_normal((3, 4)).astype(np.float32),
        rng.standard_normal(4).astype(np.float32),
    ]


def torch_reference(make, steps, clip=None):
    tensors = [torch.nn.Parameter(torch.from_numpy(w.copy())) for w in weights()]
    opt = make(tensors)
    for s in range(steps):
        grads = gradients(s)
        if clip is not None:
            grads = clip(grads)
        for t, g in zip(tensors, grads):
            t.grad = torch.from_numpy(g)
        opt.step()
    return [t.detach().numpy() for t in tensors]


def test_class_and_kwargs_update_numpy_weights_in_place_zero_copy():
    ws = weights()
    ids = [id(w) for w in ws]
    opt = TorchOptimizer(torch.optim.AdamW, lr=1e-2, weight_decay=0.1)
    for s in range(3):
        opt.apply_gradients(zip(gradients(s), ws))
    assert [id(w) for w in ws] == ids and all(w.dtype == np.float32 for w in ws)
    for w, t in zip(ws, opt.torch_optimizer.param_groups[0]["params"]):
        assert t.data_ptr() == w.__array_interface__["data"][0]
    expected = torch_reference(
        lambda t: torch.optim.AdamW(t, lr=1e-2, weight_decay=0.1), 3
    )
    assert_bitwise(ws, expected)
    assert opt.iterations == 3
    assert all(t.grad is None for t in opt.torch_optimizer.param_groups[0]["params"])


def test_wrapping_an_instance_on_from_numpy_views_keeps_it():
    ws = weights()
    instance = torch.optim.SGD([torch.from_numpy(w) for w in ws], lr=0.1, momentum=0.9)
    opt = TorchOptimizer(instance)
    for s in range(3):
        opt.apply_gradients(zip(gradients(s), ws))
    assert opt.torch_optimizer is instance
    expected = torch_reference(lambda t: torch.optim.SGD(t, lr=0.1, momentum=0.9), 3)
    assert_bitwise(ws, expected)


def test_wrapping_a_fresh_instance_uses_it_as_template():
    template = torch.optim.Adam([torch.zeros(1)], lr=0.03, betas=(0.8, 0.99))
    opt = TorchOptimizer(template)
    ws = weights()
    for s in range(2):
        opt.apply_gradients(zip(gradients(s), ws))
    expected = torch_reference(
        lambda t: torch.optim.Adam(t, lr=0.03, betas=(0.8, 0.99)), 2
    )
    assert_bitwise(ws, expected)
    config = opt.get_config()
    assert config["optimizer"] == "torch.optim.Adam" and config["betas"] == (0.8, 0.99)
    rebuilt = TorchOptimizer.from_config(json.loads(json.dumps(config)))
    assert rebuilt.get_config() == config


def test_lr_is_settable_and_reaches_every_torch_group():
    opt = TorchOptimizer(torch.optim.SGD, lr=0.5)
    assert opt.lr == 0.5
    opt.lr = 0.1  # before the first step
    ws = weights()
    opt.apply_gradients(zip(gradients(0), ws))
    assert opt.torch_optimizer.param_groups[0]["lr"] == 0.1
    opt.lr = 0.01
    opt.apply_gradients(zip(gradients(1), ws))

    def lrs(tensors):
        sgd = torch.optim.SGD(tensors, lr=0.1)
        original = sgd.step

        def step():
            original()
            sgd.param_groups[0]["lr"] = 0.01

        sgd.step = step
        return sgd

    assert_bitwise(ws, torch_reference(lrs, 2))
    assert opt.get_config()["lr"] == 0.01
    with pytest.raises(ValueError, match="lr must be"):
        opt.lr = -1.0


def test_clipnorm_and_clipvalue_follow_keras():
    opt = TorchOptimizer(torch.optim.SGD, lr=0.1, clipnorm=0.5, clipvalue=0.1)
    ws = weights()
    for s in range(2):
        opt.apply_gradients(zip(gradients(s), ws))
    expected = weights()
    keras = optimizers.SGD(lr=0.1, clipnorm=0.5, clipvalue=0.1, engine="reference")
    for s in range(2):
        keras.apply_gradients(zip(gradients(s), expected))
    np.testing.assert_allclose(ws[0], expected[0], rtol=1e-6)
    np.testing.assert_allclose(ws[1], expected[1], rtol=1e-6)


def test_gradstep_torch_class_inside_equals_numpy_optimizer():
    ws = weights()
    opt = TorchOptimizer(gtorch.Adam, lr=0.01, amsgrad=True, engine="reference")
    expected = weights()
    keras = optimizers.Adam(lr=0.01, amsgrad=True, engine="reference")
    for s in range(3):
        opt.apply_gradients(zip(gradients(s), ws))
        keras.apply_gradients(zip(gradients(s), expected))
    assert_bitwise(ws, expected)
    assert opt.get_config()["optimizer"] == "gradstep.torch.Adam"


def test_weights_round_trip():
    ws = weights()
    opt = TorchOptimizer(torch.optim.Adam, lr=0.01)
    assert opt.get_weights() == []
    with pytest.raises(ValueError, match="first step"):
        opt.set_weights([np.array(0)])
    for s in range(2):
        opt.apply_gradients(zip(gradients(s), ws))
    saved, saved_ws = opt.get_weights(), [w.copy() for w in ws]
    assert int(saved[0]) == 2 and len(saved) == 1 + 2 * 3  # exp_avg, exp_avg_sq, step
    opt.apply_gradients(zip(gradients(2), ws))
    straight = [w.copy() for w in ws]
    for w, s in zip(ws, saved_ws):
        w[...] = s
    opt.set_weights(saved)
    assert opt.iterations == 2
    opt.apply_gradients(zip(gradients(2), ws))
    assert_bitwise(ws, straight)
    with pytest.raises(ValueError, match="shape"):
        opt.set_weights([saved[0], *[np.zeros(7)] * (len(saved) - 1)])


def test_errors_are_clear():
    with pytest.raises(TypeError, match="subclass or instance"):
        TorchOptimizer("adam")
    with pytest.raises(ValueError):
        TorchOptimizer(torch.optim.Adam, lr=-1.0)  # torch's own validation
    with pytest.raises(TypeError, match="keyword arguments"):
        TorchOptimizer(torch.optim.SGD([torch.zeros(1)], lr=0.1), lr=0.2)
    opt = TorchOptimizer(torch.optim.SGD, lr=0.1)
    ws = weights()
    with pytest.raises(ValueError, match="None"):
        opt.apply_gradients([(None, ws[0])])
    assert opt.torch_optimizer is None
    opt.apply_gradients(zip(gradients(0), ws))
    with pytest.raises(ValueError, match="not the array this optimizer was built for"):
        opt.apply_gradients(zip(gradients(0), weights()))

    class Custom(torch.optim.SGD):
        pass

    with pytest.raises(NotImplementedError, match="only classes of torch.optim"):
        TorchOptimizer(Custom, lr=0.1).get_config()
    with pytest.raises(NotImplementedError, match="not a number"):
        TorchOptimizer(torch.optim.SGD, lr=0.1, momentum=torch.tensor(0.5)).get_config()
    with pytest.raises(ValueError, match="expected a class of"):
        TorchOptimizer.from_config({"optimizer": "os.system"})
    stepped = torch.optim.SGD([torch.zeros(2)], lr=0.1, momentum=0.9)
    stepped.param_groups[0]["params"][0].grad = torch.ones(2)
    stepped.step()
    with pytest.raises(ValueError, match="not views of the arrays"):
        TorchOptimizer(stepped).apply_gradients(zip(gradients(0), weights()))


def test_import_gradstep_does_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys, gradstep, gradstep.optimizers, gradstep.optimizers.native;"
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
