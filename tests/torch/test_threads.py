"""gradstep.torch runs its kernels on torch's OpenMP workers, not on more threads."""

from __future__ import annotations

import pytest

from .._threads import numba_layer_after

pytest.importorskip("numba")
pytest.importorskip("torch")


def test_torch_optimizers_keep_numba_on_torchs_openmp_workers():
    layer = numba_layer_after(
        "import torch, gradstep.torch as gt\n"
        "w = torch.nn.Parameter(torch.ones(3))\n"
        "opt = gt.Adam([w], engine='fused')\n"
        "w.grad = torch.ones(3)\n"
        "opt.step()\n"
    )
    assert layer in ("tbb", "omp")
