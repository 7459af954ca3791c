"""The examples in the optimizers' docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

from gradstep.optimizers import builtin_classes

MODULES = sorted({cls.__module__ for cls in builtin_classes().values()})


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no docstring example"
    assert result.failed == 0
