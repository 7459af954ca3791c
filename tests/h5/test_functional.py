"""Functional (two-input, two-output, loss_weights) Keras 2.2.4 files continue in
gradstep as in Keras 2.2.4; skipped while gradstep has no functional ``Model``."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("h5py")

import gradstep.models  # noqa: E402
from gradstep.models.h5 import read_model_file, save_model  # noqa: E402

from ._util import (  # noqa: E402
    BATCH,
    FIXTURES,
    expected,
    keras_batch,
    keras_runner,
    optimizer_fixtures,
)

if not hasattr(gradstep.models, "Model"):
    pytest.skip(
        "gradstep.models.Model (the functional API) does not exist yet",
        allow_module_level=True,
    )

NAMES = optimizer_fixtures(functional=True)


def check(model, name: str, want=None) -> None:
    """``model`` continued on ``name``'s data matches ``want`` (default: Keras's own
    continuation of the fixture)."""
    d = {k: np.asarray(v) for k, v in expected(name)["data"].items()}
    want = want or expected(name)
    history = model.fit(
        [d["xa"], d["xb"]],
        {"cls": d["cls"], "reg": d["reg"]},
        batch_size=BATCH,
        epochs=2,
        shuffle=False,
        verbose=0,
    )
    assert sorted(history.history) == sorted(want["history"])
    for key, values in want["history"].items():
        np.testing.assert_allclose(
            history.history[key], values, rtol=1e-9, atol=1e-12, err_msg=key
        )
    for i, (w, e) in enumerate(zip(model.get_weights(), want["weights"], strict=True)):
        np.testing.assert_allclose(w, e, rtol=1e-9, atol=1e-12, err_msg=f"weight {i}")


@pytest.mark.parametrize("name", NAMES)
def test_functional_continues_like_keras(name: str) -> None:
    model = gradstep.models.load_model(FIXTURES / f"{name}.h5")
    assert type(model).__name__ == "Model"
    check(model, name)


@pytest.mark.parametrize("name", NAMES)
def test_functional_rewrite(name: str, tmp_path) -> None:
    path = tmp_path / "again.h5"
    save_model(gradstep.models.load_model(FIXTURES / f"{name}.h5"), path)
    saved = read_model_file(str(path))
    original = read_model_file(str(FIXTURES / f"{name}.h5"))
    assert saved.model_config["class_name"] == "Model"
    assert saved.training_config == original.training_config
    check(gradstep.models.load_model(path), name)


@pytest.mark.skipif(keras_runner() is None, reason="the Keras 2.2.4 venv is not built")
def test_keras_continues_gradstep_functional_files(tmp_path) -> None:
    """gradstep trains one more epoch and saves; real Keras 2.2.4 loads the file with
    no warning and continues to gradstep's numbers."""
    written = []
    for name in NAMES:
        model = gradstep.models.load_model(FIXTURES / f"{name}.h5")
        d = {k: np.asarray(v) for k, v in expected(name)["data"].items()}
        x, y = [d["xa"], d["xb"]], {"cls": d["cls"], "reg": d["reg"]}
        model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
        path = tmp_path / f"{name}.h5"
        save_model(model, path)
        written.append((name, path))
    spec = [[str(p), 2, str(FIXTURES / f"{n}.json")] for n, p in written]
    keras = keras_batch(spec, tmp_path, float32=False)
    for name, path in written:
        want = keras[str(path)]
        assert "error" not in want, f"{name}: {want.get('error')}"
        check(gradstep.models.load_model(path), name, want)
