"""DDP, ZeroRedundancyOptimizer and FSDP2 on 2 gloo ranks equal one process on the global
batch, with clipnorm on the true global norm (a rank-local norm would give other steps).

The ranks run in a child process (torch.multiprocessing.spawn) killed after a hard
timeout, so a hang cannot block the test run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
dist = pytest.importorskip("torch.distributed")

if not dist.is_available() or not dist.is_gloo_available():
    pytest.skip("torch.distributed with gloo is not available", allow_module_level=True)

import gradstep.torch as gtorch  # noqa: E402

from . import _dist_worker as worker  # noqa: E402

TIMEOUT = 120


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    script = Path(worker.__file__)
    child = subprocess.Popen(
        [sys.executable, str(script), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        log, _ = child.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        pytest.fail(f"the 2-rank run did not finish in {TIMEOUT} s")
    assert child.returncode == 0, log[-4000:]
    return torch.load(out / "results.pt", weights_only=True)


def single_process(config):
    model = worker.make_model()
    worker.train(model, gtorch.Adam(model.parameters(), **config), None)
    return [p.detach() for p in model.parameters()]


@pytest.mark.parametrize("mode", ["ddp", "zero", "fsdp2"])
def test_equals_single_process_with_global_clipnorm(results, mode):
    expected = single_process(worker.CONFIG)
    unclipped = single_process({**worker.CONFIG, "clipnorm": None})
    for got, want in zip(results[mode], expected):
        assert got.shape == want.shape
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    # clipping was active, so the equality above needs the global norm
    assert any(not torch.allclose(w, f, rtol=1e-3) for w, f in zip(expected, unclipped))


def test_zero_took_the_steady_path(results):
    assert results["zero_steady"]


def test_zero_state_dict_keeps_the_counters(results):
    assert results["zero_iterations"] == [worker.STEPS]
