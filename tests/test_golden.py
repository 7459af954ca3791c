"""Every golden trajectory, float64, relative error <= 1e-10 at every step."""

from __future__ import annotations

import numpy as np
import pytest

from gradstep import optimizers

from ._golden import golden_files, load_case

CASES = golden_files()


def test_golden_cases_present():
    assert len(CASES) >= 45


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden_trajectory(path):
    case = load_case(path)
    opt = optimizers.get({"class_name": case["optimizer"], "config": case["config"]})
    params = [p.copy() for p in case["params"]]
    for step, (grads, expected) in enumerate(zip(case["grads"], case["expected"])):
        opt.apply_gradients(zip(grads, params))
        for i, (actual, want) in enumerate(zip(params, expected)):
            np.testing.assert_allclose(
                actual, want, rtol=1e-10, atol=0, err_msg=f"step {step + 1}, param {i}"
            )
    assert opt.iterations == len(case["grads"])
