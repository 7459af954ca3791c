"""gradstep.torch runs its kernels on torch's OpenMP workers, not on more threads."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("numba")
pytest.importorskip("torch")


def test_torch_optimizers_keep_numba_on_torchs_openmp_workers():
    code = (
        "import torch, gradstep.torch as gt\n"
        "w = torch.nn.Parameter(torch.ones(3))\n"
        "opt = gt.Adam([w], engine='fused')\n"
        "w.grad = torch.ones(3)\n"
        "opt.step()\n"
        "import numba\n"
        "print(numba.threading_layer())\n"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OMP_WAIT_POLICY", "NUMBA_THREADING_LAYER")
    }
    layer = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert layer in ("tbb", "omp")
