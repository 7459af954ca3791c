"""Every golden trajectory through gradstep.torch, float64, rel <= 1e-10 at every step.

Four layouts: one param group (the engine clips), one group per tensor (the global norm is
computed over all groups and applied before the engine), torch tensor operations instead
of the NumPy engine, and flattened parameters (one kernel call per step).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gradstep.torch as gtorch  # noqa: E402

from .._golden import golden_files, load_case  # noqa: E402

CASES = golden_files()
LAYOUTS = ["one_group", "group_per_tensor", "torch_ops", "flat_params"]


def build(case, params, layout):
    cls = getattr(gtorch, case["optimizer"])
    config = dict(case["config"])
    # the default engine for one group; the others test the layout, not the engine
    engine = {"group_per_tensor": "reference", "torch_ops": "torch"}.get(layout)
    if layout == "flat_params":
        return cls(params, flatten_params=True, **config)
    if layout == "group_per_tensor":
        return cls([{"params": [p]} for p in params], engine=engine, **config)
    return cls(params, engine=engine, **config)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden_trajectory_torch(path, layout):
    case = load_case(path)
    params = [torch.nn.Parameter(torch.from_numpy(p.copy())) for p in case["params"]]
    opt = build(case, params, layout)
    for step, (grads, expected) in enumerate(zip(case["grads"], case["expected"])):
        for p, g in zip(params, grads):
            p.grad = torch.from_numpy(g.copy())
        opt.step()
        for i, (actual, want) in enumerate(zip(params, expected)):
            assert actual.dtype == torch.float64
            np.testing.assert_allclose(
                actual.detach().numpy(),
                want,
                rtol=1e-10,
                atol=0,
                err_msg=f"step {step + 1}, param {i}",
            )
    assert all(g["iterations"] == len(case["grads"]) for g in opt.param_groups)
