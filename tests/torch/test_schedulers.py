"""Every torch.optim.lr_scheduler (and swa_utils.SWALR) drives gradstep.torch as it
drives torch.optim: with ``flavour="torch"`` the parameters, each group's lr (and the
momentum or beta_1 the cyclic schedulers move) and the scheduler's ``state_dict()``
equal torch.optim's at every step, in float64, two param groups; a scheduler rebuilt
from its state dict halfway continues the same."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

torch = pytest.importorskip("torch")

import gradstep.torch as gtorch  # noqa: E402

from ._util import set_grads  # noqa: E402

sched = torch.optim.lr_scheduler
STEPS = 12
RTOL = 1e-12

# name -> the scheduler of an optimizer (ReduceLROnPlateau steps with a metric)
SCHEDULERS: dict[str, Callable[[Any], Any]] = {
    "LambdaLR": lambda o: sched.LambdaLR(o, [lambda e: 0.9**e, lambda e: 1 / (1 + e)]),
    "MultiplicativeLR": lambda o: sched.MultiplicativeLR(o, lambda e: 0.95),
    "StepLR": lambda o: sched.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda o: sched.MultiStepLR(o, milestones=[2, 5, 9], gamma=0.3),
    "ConstantLR": lambda o: sched.ConstantLR(o, factor=0.5, total_iters=4),
    "LinearLR": lambda o: sched.LinearLR(o, start_factor=0.2, total_iters=6),
    "ExponentialLR": lambda o: sched.ExponentialLR(o, gamma=0.8),
    "PolynomialLR": lambda o: sched.PolynomialLR(o, total_iters=8, power=2.0),
    "CosineAnnealingLR": lambda o: sched.CosineAnnealingLR(o, T_max=5, eta_min=1e-4),
    "CosineAnnealingWarmRestarts": lambda o: sched.CosineAnnealingWarmRestarts(
        o, T_0=3, T_mult=2, eta_min=1e-4
    ),
    "SequentialLR": lambda o: sched.SequentialLR(
        o,
        [
            sched.LinearLR(o, start_factor=0.1, total_iters=3),
            sched.ExponentialLR(o, 0.9),
        ],
        milestones=[3],
    ),
    "ChainedScheduler": lambda o: sched.ChainedScheduler(
        [sched.StepLR(o, step_size=2, gamma=0.7), sched.ExponentialLR(o, 0.95)]
    ),
    "ReduceLROnPlateau": lambda o: sched.ReduceLROnPlateau(o, patience=1, factor=0.5),
    "OneCycleLR": lambda o: sched.OneCycleLR(o, max_lr=[0.05, 0.02], total_steps=STEPS),
    "CyclicLR": lambda o: sched.CyclicLR(
        o, base_lr=0.001, max_lr=0.05, step_size_up=3, mode="triangular2"
    ),
    "SWALR": lambda o: torch.optim.swa_utils.SWALR(o, swa_lr=0.005, anneal_epochs=4),
}
# optimizer -> constructor kwargs (torch's names); the cyclic schedulers need momentum
OPTIMIZERS = {
    "SGD": {"lr": 0.05, "momentum": 0.9},
    "RMSprop": {"lr": 0.01, "momentum": 0.5},
    "Adam": {"lr": 0.01, "betas": (0.9, 0.99)},
    "Adagrad": {"lr": 0.1},
    "Adamax": {"lr": 0.02},
    "NAdam": {"lr": 0.02},
}
CYCLE_MOMENTUM = ("OneCycleLR", "CyclicLR")  # they move momentum / beta_1 too


def _params(seed: int) -> list[Any]:
    gen = torch.Generator().manual_seed(seed)
    shapes = [(3, 4), (5,), (2, 2)]
    return [torch.randn(*s, generator=gen, dtype=torch.float64) for s in shapes]


def _groups(tensors: list[Any]) -> list[dict[str, Any]]:
    return [{"params": tensors[:2]}, {"params": tensors[2:], "lr": 0.004}]


def _pair(optimizer: str, seed: int = 0) -> tuple[Any, Any, list[Any], list[Any]]:
    ours = [p.clone().requires_grad_() for p in _params(seed)]
    theirs = [p.clone().requires_grad_() for p in _params(seed)]
    kwargs = OPTIMIZERS[optimizer]
    name = "Nadam" if optimizer == "NAdam" else optimizer
    mine = getattr(gtorch, name)(_groups(ours), flavour="torch", **kwargs)
    real = getattr(torch.optim, optimizer)(_groups(theirs), **kwargs)
    return mine, real, ours, theirs


def _close(a: Any, b: Any, what: str) -> None:
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        a, b = (
            torch.as_tensor(a, dtype=torch.float64),
            torch.as_tensor(b, dtype=torch.float64),
        )
        assert torch.allclose(a, b, rtol=RTOL, atol=0), (what, a, b)
    elif isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=RTOL, abs=0), (what, a, b)
    else:
        assert a == b, (what, a, b)


def _same_groups(mine: Any, real: Any, step: int) -> None:
    for index, (g, h) in enumerate(zip(mine.param_groups, real.param_groups)):
        for key in ("lr", "initial_lr", "momentum", "betas", "max_lr", "min_lr"):
            if key in h:
                assert key in g, f"step {step}: group {index} lacks {key}"
                _close(g[key], h[key], f"step {step}: group {index} {key}")


def _same_state(ours: Any, theirs: Any) -> dict[str, Any]:
    skip = {"optimizer", "_schedulers", "lr_lambdas", "_get_lr_called_within_step"}
    mine = {k: v for k, v in ours.state_dict().items() if k not in skip}
    real = {k: v for k, v in theirs.state_dict().items() if k not in skip}
    assert mine.keys() == real.keys()
    for key in real:
        _close(mine[key], real[key], f"scheduler state {key}")
    return mine


def _loss(tensors: list[Any]) -> Any:
    return sum((t**2).sum() for t in tensors)


@pytest.mark.parametrize("scheduler", list(SCHEDULERS))
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_scheduler_drives_gradstep_as_torch_optim(
    optimizer, scheduler, float64_default
):
    if scheduler in CYCLE_MOMENTUM and optimizer in ("Adagrad",):
        pytest.skip("torch's cycle_momentum needs momentum or betas: Adagrad has none")
    mine, real, ours, theirs = _pair(optimizer)
    s_mine, s_real = SCHEDULERS[scheduler](mine), SCHEDULERS[scheduler](real)
    gen = torch.Generator().manual_seed(1)
    for step in range(STEPS):
        grads = [torch.randn(p.shape, generator=gen, dtype=p.dtype) for p in ours]
        set_grads(ours, grads)
        set_grads(theirs, grads)
        mine.step()
        real.step()
        for a, b in zip(ours, theirs):
            _close(a.detach(), b.detach(), f"step {step}: parameters")
        if scheduler == "ReduceLROnPlateau":
            metric = 1.0 if step % 4 else 2.0  # plateaus, so the lr is cut
            s_mine.step(metric)
            s_real.step(metric)
        else:
            s_mine.step()
            s_real.step()
        _same_groups(mine, real, step)
        _same_state(s_mine, s_real)
        if scheduler != "ReduceLROnPlateau":
            _close(s_mine.get_last_lr(), s_real.get_last_lr(), f"step {step}: last lr")


@pytest.mark.parametrize(
    "scheduler", ["StepLR", "CosineAnnealingWarmRestarts", "OneCycleLR", "CyclicLR"]
)
@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "NAdam"])
def test_resumed_scheduler_and_optimizer_continue_the_same(
    optimizer, scheduler, float64_default
):
    """Save the optimizer's and the scheduler's state dicts halfway, load both into
    fresh ones (built as a script would rebuild them), and continue: the run equals
    the uninterrupted torch.optim run."""
    mine, real, ours, theirs = _pair(optimizer)
    s_mine, s_real = SCHEDULERS[scheduler](mine), SCHEDULERS[scheduler](real)
    gen = torch.Generator().manual_seed(2)
    grads = [
        [torch.randn(p.shape, generator=gen, dtype=p.dtype) for p in ours]
        for _ in range(STEPS)
    ]
    for step in range(STEPS):
        if step == STEPS // 2:
            saved_opt, saved_sched = mine.state_dict(), s_mine.state_dict()
            name = "Nadam" if optimizer == "NAdam" else optimizer
            mine = getattr(gtorch, name)(
                _groups(ours), flavour="torch", **OPTIMIZERS[optimizer]
            )
            s_mine = SCHEDULERS[scheduler](mine)
            mine.load_state_dict(saved_opt)
            s_mine.load_state_dict(saved_sched)
        set_grads(ours, grads[step])
        set_grads(theirs, grads[step])
        mine.step()
        real.step()
        s_mine.step()
        s_real.step()
        for a, b in zip(ours, theirs):
            _close(a.detach(), b.detach(), f"step {step}: parameters")
        _same_groups(mine, real, step)
