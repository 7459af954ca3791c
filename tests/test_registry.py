"""The registry is the single source of truth: every optimizer gradstep defines is
registered, and every registered one has what it needs. Each test is parametrized by
registered name, so a failure names the optimizer and what it lacks."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import subprocess
import sys

import numpy as np
import pytest

import gradstep.optimizers
from gradstep import optimizers
from gradstep.optimizers import builtin_classes

from ._golden import golden_files
from .cases import CASES

BUILTIN = builtin_classes()
NAMES = sorted(BUILTIN)
# The sections every optimizer's docstring has (see ../STYLE in the developers' guide).
DOC_SECTIONS = ("Args:", "Differs from", "References:", "Example:")


def _defined_optimizer_classes() -> list[type]:
    classes = []
    for module in pkgutil.iter_modules(gradstep.optimizers.__path__):
        mod = importlib.import_module(f"gradstep.optimizers.{module.name}")
        for _, obj in inspect.getmembers(mod, inspect.isclass):
            if (
                issubclass(obj, optimizers.Optimizer)
                and obj is not optimizers.Optimizer
                and obj.__module__ == mod.__name__
            ):
                classes.append(obj)
    return classes


def test_importing_the_package_registers_every_optimizer_module():
    """``import gradstep.optimizers`` alone imports every public module of the package
    (so each one's ``@register`` has run), checked in a fresh interpreter."""
    code = (
        "import pkgutil, sys, gradstep.optimizers as o\n"
        "names = [m.name for m in pkgutil.iter_modules(o.__path__)]\n"
        "print([n for n in names if not n.startswith('_') "
        "and 'gradstep.optimizers.' + n not in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", (
        f"modules of gradstep.optimizers not imported by its __init__: {out.stdout}"
    )


def _golden_optimizers() -> dict[type, list[str]]:
    found: dict[type, list[str]] = {}
    for path in golden_files():
        cls = optimizers.lookup(json.loads(path.read_text())["optimizer"])
        found.setdefault(cls, []).append(path.stem)
    return found


def test_the_builtin_optimizers_are_registered():
    assert NAMES, "no optimizer is registered"
    assert {"sgd", "rmsprop", "adagrad", "adadelta", "adam", "adamax", "nadam"} <= set(
        NAMES
    )


@pytest.mark.parametrize(
    "cls", _defined_optimizer_classes(), ids=lambda c: c.__qualname__
)
def test_every_optimizer_class_in_the_package_is_registered(cls):
    assert cls in BUILTIN.values(), (
        f"{cls.__module__}.{cls.__qualname__} is an Optimizer subclass that is not "
        "registered: decorate it with @register(name)"
    )


@pytest.mark.parametrize("name", NAMES)
def test_has_test_cases(name):
    assert name in CASES, f"optimizer {name!r} has no entry in tests/cases.py"
    cases = CASES[name]
    assert cases.configs, f"optimizer {name!r} has no configs in tests/cases.py"
    assert cases.first_steps, (
        f"optimizer {name!r} has no hand-computed first step in tests/cases.py"
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_cases_belong_to_registered_optimizers(name):
    assert name in BUILTIN, f"tests/cases.py has cases for {name!r}, not registered"


@pytest.mark.parametrize("name", NAMES)
def test_has_golden_data(name):
    files = _golden_optimizers().get(BUILTIN[name], [])
    assert files, f"optimizer {name!r} has no golden trajectory in tests/golden/"


@pytest.mark.parametrize("name", NAMES)
def test_docstring_gives_the_update_rule(name):
    doc = inspect.getdoc(BUILTIN[name]) or ""
    assert "Update" in doc and "::" in doc, (
        f"optimizer {name!r}: the docstring has no update rule ('Update ...::' block)"
    )
    missing = [section for section in DOC_SECTIONS if section not in doc]
    assert not missing, f"optimizer {name!r}: the docstring lacks {missing}"


@pytest.mark.parametrize("name", NAMES)
def test_has_a_torch_class(name):
    gtorch = pytest.importorskip("gradstep.torch")
    cls = BUILTIN[name]
    torch_cls = getattr(gtorch, cls.__name__, None)
    assert torch_cls is not None, f"gradstep.torch has no class for {name!r}"
    assert torch_cls.keras_class is cls
    assert cls.__name__ in gtorch.__all__


def test_a_registered_user_optimizer_gets_a_torch_class():
    gtorch = pytest.importorskip("gradstep.torch")
    sgd = optimizers.SGD
    cls = type("RegistryProbeSGD", (sgd,), {"__module__": __name__})
    optimizers.register("registry_probe_sgd")(cls)
    try:
        assert gtorch.RegistryProbeSGD.keras_class is cls
        assert gtorch.RegistryProbeSGD is gtorch.torch_optimizer(cls)
    finally:
        optimizers._registry.OPTIMIZERS._items.pop("registry_probe_sgd")


@pytest.mark.parametrize("name", NAMES)
def test_has_a_jax_transformation(name):
    gjax = pytest.importorskip("gradstep.jax")
    optax = pytest.importorskip("optax")
    make = getattr(gjax, name, None)
    assert make is not None, f"gradstep.jax has no transformation for {name!r}"
    tx = make()
    assert isinstance(tx, optax.GradientTransformation)
    assert tx.init([np.zeros(1, np.float32)]).tag[0] == name
    assert name in gjax.__all__


def test_a_registered_user_optimizer_gets_a_jax_transformation():
    gjax = pytest.importorskip("gradstep.jax")
    cls = type("RegistryProbeJaxSGD", (optimizers.SGD,), {"__module__": __name__})
    optimizers.register("registry_probe_jax_sgd")(cls)
    try:
        tx = gjax.registry_probe_jax_sgd(lr=0.5)
        state = tx.init([np.ones(2, np.float32)])
        updates, _ = tx.update(
            [np.ones(2, np.float32)], state, [np.ones(2, np.float32)]
        )
        assert np.allclose(np.asarray(updates[0]), -0.5)
        assert "registry_probe_jax_sgd" in dir(gjax)
    finally:
        optimizers._registry.OPTIMIZERS._items.pop("registry_probe_jax_sgd")
