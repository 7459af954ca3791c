"""A Keras 2.2.4 run continued in PyTorch (``gradstep.torch.from_keras_h5``) matches
Keras's own continuation: History and weights within 1e-9 relative in float64, 1e-5 in
float32."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("h5py")
torch = pytest.importorskip("torch")

import gradstep.torch  # noqa: E402

from ._util import BATCH, FIXTURES, data, expected, optimizer_fixtures  # noqa: E402

NAMES = [n for n in optimizer_fixtures() if "variant" not in expected(n)]  # Dense only
EPS = 1e-7


def keras_loss(p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Keras 2.2.4's categorical_crossentropy on probabilities, batch mean."""
    p = p / p.sum(dim=-1, keepdim=True)
    p = torch.clamp(p, EPS, 1.0 - EPS)
    return (-(y * torch.log(p)).sum(dim=-1)).mean()


def torch_model(dtype: str = "float64") -> torch.nn.Sequential:
    """The fixtures' model: Dense(5, tanh), Dropout(0), linear, Dense(3, softmax)."""
    net = torch.nn.Sequential(
        torch.nn.Linear(4, 5),
        torch.nn.Tanh(),
        torch.nn.Linear(5, 3),
        torch.nn.Softmax(dim=-1),
    )
    return net.to(getattr(torch, dtype))


@pytest.mark.parametrize("name", NAMES)
def test_torch_continues_like_keras(name: str) -> None:
    dtype = expected(name)["floatx"]
    tol = (
        {"rtol": 1e-9, "atol": 1e-12}
        if dtype == "float64"
        else {"rtol": 1e-5, "atol": 1e-6}
    )
    net = torch_model(dtype)
    params = [net[0].weight, net[0].bias, net[2].weight, net[2].bias]
    run = gradstep.torch.from_keras_h5(
        FIXTURES / f"{name}.h5", params, transpose_kernels=True
    )
    assert type(run.optimizer).__name__ == expected(name)["optimizer"]
    x, y = (torch.tensor(a) for a in data(dtype))
    want = expected(name)
    losses, accs = [], []
    for _ in range(want["epochs"]):
        total = correct = 0.0
        for start in range(0, len(x), BATCH):
            xb, yb = x[start : start + BATCH], y[start : start + BATCH]
            run.optimizer.zero_grad()
            p = net(xb)
            loss = keras_loss(p, yb)
            loss.backward()
            run.optimizer.step()
            total += loss.item() * len(xb)
            hits = (p.argmax(-1) == yb.argmax(-1)).double().mean().item()
            correct += hits * len(xb)
        losses.append(total / len(x))
        accs.append(correct / len(x))
    np.testing.assert_allclose(losses, want["history"]["loss"], **tol)
    np.testing.assert_allclose(accs, want["history"]["acc"], **tol)
    got = [p.detach().numpy() for p in params]
    got = [g.T if g.ndim == 2 else g for g in got]
    for i, (g, e) in enumerate(zip(got, want["weights"], strict=True)):
        np.testing.assert_allclose(g, e, err_msg=f"weight {i}", **tol)


def test_new_parameters_and_errors() -> None:
    run = gradstep.torch.from_keras_h5(FIXTURES / "adam_float64.h5")
    assert [tuple(p.shape) for p in run.params] == [(4, 5), (5,), (5, 3), (3,)]
    assert run.optimizer.state_dict()["param_groups"][0]["iterations"] == 8
    net = torch_model()
    with pytest.raises(ValueError, match="transpose_kernels=True"):
        gradstep.torch.from_keras_h5(FIXTURES / "adam_float64.h5", net.parameters())
    with pytest.raises(ValueError, match="no optimizer"):
        gradstep.torch.from_keras_h5(FIXTURES / "no_optimizer_float64.h5")
