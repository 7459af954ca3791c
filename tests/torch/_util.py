"""Helpers shared by the gradstep.torch tests."""

from __future__ import annotations

import numpy as np
import torch


def make_params(shapes, dtype=torch.float32, seed=0):
    """Parameters with fixed random values."""
    gen = torch.Generator().manual_seed(seed)
    return [
        torch.nn.Parameter(
            torch.randn(*s, generator=gen, dtype=torch.float64).to(dtype)
        )
        for s in shapes
    ]


def grad_sequence(shapes, steps, dtype=torch.float32, seed=1, scale=1.0):
    """``steps`` lists of gradients, one per shape."""
    gen = torch.Generator().manual_seed(seed)
    return [
        [
            scale * torch.randn(*s, generator=gen, dtype=torch.float64).to(dtype)
            for s in shapes
        ]
        for _ in range(steps)
    ]


def numpy_copy(params):
    return [p.detach().numpy().copy() for p in params]


def set_grads(params, grads):
    for p, g in zip(params, grads):
        p.grad = None if g is None else g.clone()


def assert_bitwise(actual, expected):
    for i, (a, e) in enumerate(zip(actual, expected)):
        a = a.detach().numpy() if isinstance(a, torch.Tensor) else a
        e = e.detach().numpy() if isinstance(e, torch.Tensor) else e
        assert a.dtype == e.dtype, (i, a.dtype, e.dtype)
        np.testing.assert_array_equal(a, e, err_msg=f"tensor {i}")


def step_both(pair, grads, step, rtol=1e-12):
    """Give both ``(params, optimizer)`` of ``pair`` the gradients ``grads`` (None:
    none), step them, and assert their parameters agree within ``rtol``."""
    for params, opt in pair:
        set_grads(params, grads)
        opt.step()
    (ours, _), (theirs, _) = pair
    for i, (a, b) in enumerate(zip(ours, theirs)):
        torch.testing.assert_close(
            a, b, rtol=rtol, atol=0, msg=f"step {step}, parameter {i}"
        )
