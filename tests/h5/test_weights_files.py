"""``save_weights``/``load_weights`` in Keras 2.2.4's weights-only layout, both ways."""

from __future__ import annotations

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

from gradstep import backend  # noqa: E402
from gradstep.layers import Activation, Dense, Dropout  # noqa: E402
from gradstep.models import Sequential  # noqa: E402
from gradstep.models.h5 import load_weights  # noqa: E402

from ._util import FIXTURES, expected  # noqa: E402


def _model(names=("dense_1", "dense_2")):
    backend.set_floatx("float64")
    return Sequential(
        [
            Dense(5, activation="tanh", input_shape=(4,), name=names[0]),
            Dropout(0.0, name="dropout_1"),
            Activation("linear", name="activation_1"),
            Dense(3, activation="softmax", name=names[1]),
        ]
    )


def test_reads_keras_weights_file() -> None:
    model = _model()
    model.load_weights(FIXTURES / "weights_float64.h5")
    for got, want in zip(model.get_weights(), expected("weights_float64")["weights"]):
        np.testing.assert_array_equal(got, want)


def test_model_file_weights_too() -> None:
    model = _model()
    model.load_weights(FIXTURES / "adam_float64.h5")
    assert not np.array_equal(model.get_weights()[0], _model().get_weights()[0])


def test_writes_keras_layout(tmp_path) -> None:
    model = _model()
    model.load_weights(FIXTURES / "weights_float64.h5")
    path = tmp_path / "w.h5"
    model.save_weights(path)
    with h5py.File(path, "r") as f, h5py.File(FIXTURES / "weights_float64.h5") as k:
        assert list(f.attrs["layer_names"]) == list(k.attrs["layer_names"])
        for layer in k.attrs["layer_names"]:
            name = layer.decode()
            ours = list(f[name].attrs["weight_names"])
            assert ours == list(k[name].attrs["weight_names"])
            for w in ours:
                np.testing.assert_array_equal(f[name][w.decode()], k[name][w.decode()])
    again = _model()
    again.load_weights(path)
    for a, b in zip(again.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_by_name_and_skip_mismatch() -> None:
    model = _model(names=("other", "dense_2"))
    start = model.get_weights()
    load_weights(model, FIXTURES / "weights_float64.h5", by_name=True)
    want = expected("weights_float64")["weights"]
    np.testing.assert_array_equal(model.get_weights()[0], start[0])
    np.testing.assert_array_equal(model.get_weights()[2], want[2])
    wrong = Sequential([Dense(7, input_shape=(4,), name="dense_1")])
    with pytest.raises(ValueError, match="dense_1"):
        load_weights(wrong, FIXTURES / "weights_float64.h5", by_name=True)
    before = wrong.get_weights()
    with pytest.warns(
        UserWarning, match="Skipping loading of weights for layer dense_1"
    ):
        load_weights(
            wrong, FIXTURES / "weights_float64.h5", by_name=True, skip_mismatch=True
        )
    np.testing.assert_array_equal(wrong.get_weights()[0], before[0])
    with pytest.raises(ValueError, match="by_name"):
        load_weights(wrong, FIXTURES / "weights_float64.h5", skip_mismatch=True)
