"""The README's JAX example (examples/jax_training.py, shown verbatim) runs and prints
what it says; the docstring examples of gradstep.jax and OptaxOptimizer run."""

from __future__ import annotations

import doctest
import importlib
import runpy
from pathlib import Path

import pytest

pytest.importorskip("jax")
pytest.importorskip("optax")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jax_training.py"


def test_readme_shows_the_example_verbatim():
    readme = (EXAMPLE.parents[1] / "README.md").read_text()
    section = readme.split("## JAX\n", 1)[1].split("\n## ", 1)[0]
    assert EXAMPLE.read_text().strip() in section


def test_example_runs_and_prints_what_it_says(capsys):
    namespace = runpy.run_path(str(EXAMPLE), run_name="example")
    assert capsys.readouterr().out.split() == ["2", "0.0001"]
    assert namespace["params"]["w"].shape == (3, 2)


@pytest.mark.parametrize("name", ["gradstep.jax", "gradstep.optimizers.native_optax"])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
