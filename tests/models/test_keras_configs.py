"""Architectures written by real Keras 2.2.4 (``data/make_keras_functional.py``):
``model_from_json`` and ``model_from_yaml`` rebuild them, Keras's weights fit them in
order, and the predictions are Keras's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gradstep import backend
from gradstep.models import model_from_json, model_from_yaml

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _float64():
    old = backend.floatx()
    backend.set_floatx("float64")
    yield
    backend.set_floatx(old)


@pytest.mark.parametrize(
    ("name", "load"),
    [
        ("keras224_functional.json", model_from_json),
        ("keras224_functional.yaml", model_from_yaml),
    ],
)
def test_keras_written_functional_config(name, load):
    model = load((DATA / name).read_text())
    with np.load(DATA / "keras224_functional.npz") as data:
        count = len([k for k in data.files if k.startswith("arr_")])
        model.set_weights([data[f"arr_{i}"] for i in range(count)])
        expected = [data["pred0"], data["pred1"]]
    assert model.get_layer("inner").count_params() == 4 * 4 + 4 + 4 * 4
    x = [np.linspace(-1, 1, 8).reshape(2, 4), np.linspace(1, -1, 8).reshape(2, 4)]
    for p, e in zip(model.predict(x), expected):
        np.testing.assert_allclose(p, e, rtol=1e-12)


def test_yaml_refuses_python_objects():
    with pytest.raises(ValueError, match="not valid YAML"):
        model_from_yaml("!!python/object/apply:os.system ['echo hi']")
