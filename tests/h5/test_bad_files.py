"""Bad .h5 input (issue 14, "Bad input"): a clear ValueError naming the file and what
is wrong; ``load_weights`` leaves the model unchanged; nothing in a file is executed."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

from gradstep.layers import Activation, Dense, Dropout  # noqa: E402
from gradstep.models import Sequential, load_model  # noqa: E402

from ._util import FIXTURES  # noqa: E402

SOURCE = FIXTURES / "adam_float64.h5"


def _copy(tmp_path, name="bad.h5"):
    path = tmp_path / name
    shutil.copy(SOURCE, path)
    return path


def _edit_config(path, attr, edit):
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs[attr])
        edit(config)
        f.attrs[attr] = np.bytes_(json.dumps(config))


def _model():
    from gradstep import backend

    backend.set_floatx("float64")
    model = Sequential(
        [
            Dense(5, activation="tanh", input_shape=(4,), name="dense_1"),
            Dropout(0.0, name="dropout_1"),
            Activation("linear", name="activation_1"),
            Dense(3, activation="softmax", name="dense_2"),
        ]
    )
    return model


def _refused(path, *words, loader=load_model):
    with pytest.raises(ValueError) as info:
        loader(path)
    message = str(info.value)
    assert str(path) in message, message
    for word in words:
        assert word in message, message
    return message


def test_not_hdf5(tmp_path) -> None:
    path = tmp_path / "model.h5"
    path.write_bytes(b"this is not HDF5 at all" * 10)
    _refused(path, "not an HDF5 file")


def test_truncated(tmp_path) -> None:
    path = tmp_path / "cut.h5"
    path.write_bytes(SOURCE.read_bytes()[:3000])
    _refused(path)


def test_missing_file(tmp_path) -> None:
    _refused(tmp_path / "none.h5", "no such file")


def test_unknown_layer_is_named(tmp_path) -> None:
    path = _copy(tmp_path)

    def edit(config):
        config["config"]["layers"][1]["class_name"] = "Conv2D"

    _edit_config(path, "model_config", edit)
    _refused(path, "Conv2D")


def test_unknown_optimizer_is_named(tmp_path) -> None:
    path = _copy(tmp_path)

    def edit(config):
        config["optimizer_config"]["class_name"] = "Ftrl"

    _edit_config(path, "training_config", edit)
    _refused(path, "Ftrl")


def test_weight_shapes_not_matching_the_config(tmp_path) -> None:
    path = _copy(tmp_path)

    def edit(config):
        config["config"]["layers"][0]["config"]["units"] = 6

    _edit_config(path, "model_config", edit)
    _refused(path, "asks for weights of shapes")


def test_optimizer_weights_not_fitting(tmp_path) -> None:
    path = _copy(tmp_path)
    with h5py.File(path, "r+") as f:
        group = f["optimizer_weights"]
        name = group.attrs["weight_names"][1].decode()
        del group[name]
        group[name] = np.zeros((7, 7))
    _refused(path, "optimizer weights do not fit")


def test_string_dataset(tmp_path) -> None:
    path = _copy(tmp_path)
    with h5py.File(path, "r+") as f:
        del f["model_weights/dense_1/dense_1/bias"]
        f["model_weights/dense_1/dense_1/bias"] = np.array([b"abc"] * 5)
    _refused(path, "dtype", "bias")


def test_object_dataset(tmp_path) -> None:
    path = _copy(tmp_path)
    with h5py.File(path, "r+") as f:
        del f["model_weights/dense_1/dense_1/bias"]
        kind = h5py.string_dtype()
        f.create_dataset("model_weights/dense_1/dense_1/bias", (5,), dtype=kind)
    _refused(path, "dtype", "bias")


def test_compressed_dataset(tmp_path) -> None:
    path = _copy(tmp_path)
    with h5py.File(path, "r+") as f:
        del f["model_weights/dense_1/dense_1/kernel"]
        f.create_dataset(
            "model_weights/dense_1/dense_1/kernel",
            data=np.zeros((4, 5)),
            compression="gzip",
        )
    _refused(path, "compressed")


def test_unknown_attribute(tmp_path) -> None:
    path = _copy(tmp_path)
    with h5py.File(path, "r+") as f:
        f.attrs["surprise"] = 1
    _refused(path, "surprise")


def test_bad_json(tmp_path) -> None:
    path = _copy(tmp_path)
    with h5py.File(path, "r+") as f:
        f.attrs["model_config"] = np.bytes_(b"{not json")
    _refused(path, "model_config", "JSON")


def test_lambda_code_is_refused_not_run() -> None:
    message = _refused(FIXTURES / "lambda_float64.h5", "Lambda", "never runs")
    assert "marshalled" in message


def test_unknown_model_class_is_named(tmp_path) -> None:
    path = _copy(tmp_path)

    def edit(config):
        config["class_name"] = "Graph"

    _edit_config(path, "model_config", edit)
    _refused(path, "'Graph'", "Sequential and Model")


def test_load_weights_leaves_the_model_unchanged(tmp_path) -> None:
    model = _model()
    before = model.get_weights()
    path = _copy(tmp_path)
    with h5py.File(path, "r+") as f:
        del f["model_weights/dense_2/dense_2/bias"]
        f["model_weights/dense_2/dense_2/bias"] = np.zeros(4)
    _refused(path, "dense_2", loader=model.load_weights)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_load_weights_wrong_layer_count(tmp_path) -> None:
    model = Sequential([Dense(5, input_shape=(4,))])
    before = model.get_weights()
    _refused(FIXTURES / "weights_float64.h5", "2 layers", loader=model.load_weights)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_huge_config_refused_before_allocating(tmp_path) -> None:
    path = _copy(tmp_path)

    def edit(config):
        config["config"]["layers"][0]["config"]["units"] = 10**12

    _edit_config(path, "model_config", edit)
    _refused(path, "shapes")


def test_dataset_larger_than_the_file(tmp_path) -> None:
    path = _copy(tmp_path)
    with h5py.File(path, "r+") as f:
        del f["model_weights/dense_1/dense_1/kernel"]
        f.create_dataset("model_weights/dense_1/dense_1/kernel", (10**8,), "f8")
    _refused(path, "more bytes than the file holds")


def test_weights_only_file_to_load_model() -> None:
    _refused(FIXTURES / "weights_float64.h5", "model.load_weights")


def test_failed_save_leaves_nothing(tmp_path) -> None:
    model = _model()
    path = tmp_path / "out.h5"
    model.compile(optimizer="adam", loss="mse")
    model.optimizer = type("Foreign", (), {"apply_gradients": lambda self, g: None})()
    with pytest.raises(ValueError, match="include_optimizer=False"):
        model.save(path)
    assert list(tmp_path.iterdir()) == []
    model.save(path, include_optimizer=False)
    assert load_model(path).optimizer is None


def test_external_link_refused(tmp_path) -> None:
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["kernel"] = np.zeros((4, 5))
    path = _copy(tmp_path)
    with h5py.File(path, "r+") as f:
        del f["model_weights/dense_1/dense_1/kernel"]
        f["model_weights/dense_1/dense_1/kernel"] = h5py.ExternalLink(
            str(other), "kernel"
        )
    _refused(path, "external link")
