"""CUDA: the torch-ops path on the GPU equals the CPU engines (skipped without a GPU)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

if not torch.cuda.is_available():
    pytest.skip("no CUDA device", allow_module_level=True)

import gradstep.torch as gtorch  # noqa: E402

from .._golden import golden_files, load_case  # noqa: E402
from ._util import grad_sequence, make_params  # noqa: E402

CASES = golden_files()


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden_trajectory_cuda_float64(path):
    case = load_case(path)
    params = [
        torch.nn.Parameter(torch.from_numpy(p.copy()).cuda()) for p in case["params"]
    ]
    opt = getattr(gtorch, case["optimizer"])(params, **case["config"])
    for step, (grads, expected) in enumerate(zip(case["grads"], case["expected"])):
        for p, g in zip(params, grads):
            p.grad = torch.from_numpy(g.copy()).cuda()
        opt.step()
        for actual, want in zip(params, expected):
            np.testing.assert_allclose(
                actual.detach().cpu().numpy(),
                want,
                rtol=1e-10,
                atol=0,
                err_msg=f"step {step + 1}",
            )


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize(
    "name", ["SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "Adamax", "Nadam"]
)
def test_cuda_matches_cpu(name, dtype):
    shapes = [(64, 32), (1000,)]
    cpu = make_params(shapes, dtype=dtype)
    gpu = [torch.nn.Parameter(p.detach().cuda()) for p in cpu]
    opts = [
        getattr(gtorch, name)(ps, clipnorm=1.0, engine="torch") for ps in (cpu, gpu)
    ]
    for grads in grad_sequence(shapes, 5, dtype=dtype, scale=3.0):
        for ps, opt in zip((cpu, gpu), opts):
            for p, g in zip(ps, grads):
                p.grad = g.clone().to(p.device)
            opt.step()
    for c, g in zip(cpu, gpu):
        np.testing.assert_allclose(
            g.detach().float().cpu().numpy(),
            c.detach().float().numpy(),
            rtol=1e-5 if dtype == torch.float32 else 1e-2,
            atol=1e-6,
        )
        assert all(s.device.type == "cuda" for s in opts[1].state[g].values())
