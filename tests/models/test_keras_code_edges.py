"""Ordinary Keras 2.2 Dense-model code at its edges, against real Keras 2.2.4 (float64).

Each case of ``tests/keras224/edges/cases.py`` runs the very same calls with gradstep as
``tests/keras224/edges/generate.py`` ran under Keras 2.2.4 (its ``<case>.json``);
every number is compared within 1e-9 relative.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gradstep
import gradstep.layers
import gradstep.models
import gradstep.optimizers

from ..keras224.edges import cases

EDGES = Path(__file__).parents[1] / "keras224" / "edges"
RTOL, ATOL = 1e-9, 1e-12


def _compare(got: Any, expected: Any, where: str) -> None:
    if isinstance(expected, dict):
        assert sorted(got) == sorted(expected), where
        for key in expected:
            _compare(got[key], expected[key], f"{where}/{key}")
    elif (
        isinstance(expected, list)
        and expected
        and isinstance(expected[0], (dict, list))
    ):
        assert len(got) == len(expected), where  # weights of several shapes, histories
        for i, (g, e) in enumerate(zip(got, expected)):
            _compare(g, e, f"{where}[{i}]")
    elif isinstance(expected, str) or (
        isinstance(expected, list) and any(isinstance(e, str) for e in expected)
    ):
        assert got == expected, where
    else:
        np.testing.assert_allclose(
            np.asarray(got, dtype=float),
            np.asarray(expected, dtype=float),
            rtol=RTOL,
            atol=ATOL,
            err_msg=where,
        )


def _run(name: str) -> None:
    expected = json.loads((EDGES / f"{name}.json").read_text())
    assert expected["keras_version"] == "2.2.4" and expected["floatx"] == "float64"
    gradstep.backend.set_floatx("float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = cases.CASES[name](gradstep)
    for key in ("name", "keras_version", "floatx"):
        expected.pop(key)
    _compare(got, expected, name)


def test_every_case_has_data() -> None:
    assert sorted(p.stem for p in EDGES.glob("*.json")) == sorted(cases.CASES)


def test_frozen_after_compile_still_trains_as_keras() -> None:
    """``trainable = False`` set after compile: Keras 2.2.4 keeps training the weights
    collected at compile (gradstep used to skip their gradients: zero or stale)."""
    _run("frozen_after_compile")


def test_frozen_after_compile_functional_train_on_batch() -> None:
    _run("frozen_after_compile_functional")


def test_intermediate_layer_output_model() -> None:
    """Keras's FAQ recipe ``Model(model.input, model.get_layer(name).output)`` on a
    Sequential and a functional model (gradstep had no ``model.input``/``output``)."""
    _run("intermediate_output")


def test_gan_discriminator_frozen_after_its_compile() -> None:
    """Keras 2.2's GAN recipe: the discriminator's layers frozen after its compile, for
    the combined model; the discriminator still trains in its own train_on_batch."""
    _run("gan_layers_frozen")


def test_nested_model_with_batchnorm_h5_from_keras() -> None:
    """Keras 2.2.4's file of a model nested in a Sequential, with a BatchNormalization
    (its nested weights trainable first): gradstep refused it (shapes "altered")."""
    pytest.importorskip("h5py")
    _run("nested_batchnorm_h5")


def test_nested_model_with_batchnorm_h5_written_as_keras(tmp_path: Path) -> None:
    """gradstep writes a nested model's weights in Keras 2.2.4's order and names (Keras
    reads them by position), and reads its own file back to the same numbers."""
    pytest.importorskip("h5py")
    import h5py

    gradstep.backend.set_floatx("float64")
    keras_file = EDGES / "nested_batchnorm.h5"
    model = gradstep.models.load_model(str(keras_file))
    path = str(tmp_path / "again.h5")
    model.save(path)
    with h5py.File(keras_file, "r") as theirs, h5py.File(path, "r") as ours:
        for name in ("inner", "top"):
            want = list(theirs["model_weights"][name].attrs["weight_names"])
            assert list(ours["model_weights"][name].attrs["weight_names"]) == want
            for key in want:  # the same arrays under the same names
                np.testing.assert_array_equal(
                    ours["model_weights"][name][key][()],
                    theirs["model_weights"][name][key][()],
                )
    again = gradstep.models.load_model(path)
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = np.random.RandomState(0).randn(5, 4)
    np.testing.assert_array_equal(model.predict(x), again.predict(x))
