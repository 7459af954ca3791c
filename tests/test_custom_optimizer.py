"""The README's custom optimizer example: subclass, register, look up by name, run."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest

from gradstep import optimizers

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "custom_optimizer.py"


@pytest.fixture(scope="module")
def example():
    return runpy.run_path(str(EXAMPLE), run_name="example")


def test_readme_shows_the_example_verbatim():
    readme = (EXAMPLE.parents[1] / "README.md").read_text()
    assert EXAMPLE.read_text().strip() in readme


def test_example_matches_torch_style_momentum(example, capsys):
    w = example["w"]
    expected, b = np.array([1.0, -2.0]), np.zeros(2)
    for _ in range(3):
        b = 0.9 * b + 2 * expected
        expected = expected - 0.1 * b
    np.testing.assert_allclose(w, expected, rtol=1e-15)


def test_custom_optimizer_has_the_whole_api(example):
    cls = example["HeavyBall"]
    assert optimizers.get("Heavy_Ball").__class__ is cls
    opt = cls(lr=0.1, clipnorm=1.0)
    params = [np.ones(3), np.ones((2, 2))]
    opt.apply_gradients(zip([np.ones(3), np.ones((2, 2))], params))
    twin = optimizers.deserialize(optimizers.serialize(opt))
    twin.build(params)
    twin.set_weights(opt.get_weights())
    assert twin.iterations == 1 and twin.get_config() == opt.get_config()
    with pytest.raises(ValueError, match="momentum must be"):
        cls(momentum=-1)
