"""Hostile and malformed inputs found by probing: each file is built in ``tmp_path`` and
must be refused with an error naming what is wrong, without large allocations."""

from __future__ import annotations

import io
import json
import struct
import tarfile
import tracemalloc
import zipfile

import numpy as np
import pytest

from gradstep.datasets import DatasetError
from gradstep.datasets.npz import load_npz
from gradstep.lab._errors import LabError

KEYS = ("x_train", "y_train", "x_test", "y_test")


def _npy(header: dict, data: bytes = b"") -> bytes:
    """A version 1.0 ``.npy`` member with ``header`` written as is (not validated)."""
    text = repr(header).encode()
    text += b" " * (63 - (len(text) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + data


def _array_npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _npz(path, members: dict, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for key, data in members.items():
            archive.writestr(f"{key}.npy", data)
    return path


def _split(**overrides):
    """A valid four-array data set, some arrays replaced."""
    x = np.linspace(0, 1, 12).reshape(6, 2)
    y = np.array([0, 1, 0, 1, 0, 1])
    arrays = {"x_train": x, "y_train": y, "x_test": x[:2], "y_test": y[:2]}
    arrays.update(overrides)
    return arrays


def _peak(function) -> int:
    tracemalloc.start()
    try:
        function()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


# ---- .npz: a negative dimension bypassed every size check ----------------------------
def test_npz_negative_dimension_is_refused_before_inflating(tmp_path) -> None:
    bomb = _npy({"descr": "<f8", "fortran_order": False, "shape": (-1, 8)})
    bomb += b"\0" * (64 << 20)  # 64 MiB of zeros deflate to ~64 KiB
    members = {key: _array_npy(value) for key, value in _split().items()}
    members["x_train"] = bomb
    path = _npz(tmp_path / "bomb.npz", members, zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 1 << 20

    def load():
        with pytest.raises(DatasetError, match=r"x_train.*\(-1, 8\).*integers >= 0"):
            load_npz(path)

    assert _peak(load) < 8 << 20


def test_model_file_with_negative_dimension_is_refused(tmp_path) -> None:
    from gradstep.models import load_model

    path = tmp_path / "m.npz"
    header = {
        "format": "gradstep.model",
        "format_version": 1,
        "weights": [],
        "optimizer_weights": 1,
    }
    _npz(
        path,
        {
            "__gradstep__": _array_npy(np.array(json.dumps(header))),
            "optimizer_weight_0000": _npy(
                {"descr": "<f8", "fortran_order": False, "shape": (-8,)}
            ),
        },
    )
    with pytest.raises(ValueError, match=r"\(-8,\); a shape holds integers >= 0"):
        load_model(str(path))


# ---- data sets: dtypes and one-hot rows that are not what check_split promises -------
def test_complex_features_are_refused(tmp_path) -> None:
    path = tmp_path / "c.npz"
    np.savez(path, **_split(x_train=np.ones((6, 2)) + 1j))
    with pytest.raises(
        DatasetError, match="x_train has dtype complex128; expected real"
    ):
        load_npz(path)


@pytest.mark.parametrize(
    "y, words",
    [
        (np.array([[np.nan, 1.0]] * 6), "NaN or infinite"),
        (np.array([[-3.0, 4.0]] * 6), "outside [0, 1]"),
    ],
    ids=["nan", "out_of_range"],
)
def test_bad_one_hot_rows_are_refused(tmp_path, y, words) -> None:
    path = tmp_path / "y.npz"
    np.savez(path, **_split(y_train=y, y_test=np.eye(2)[[0, 1]]))
    with pytest.raises(DatasetError, match="y_train") as info:
        load_npz(path)
    assert words in str(info.value)


def test_soft_one_hot_rows_are_accepted(tmp_path) -> None:
    path = tmp_path / "soft.npz"
    np.savez(path, **_split(y_train=np.full((6, 2), 0.5), y_test=np.eye(2)[[0, 1]]))
    (_, y), _ = load_npz(path)
    assert y.shape == (6, 2)


def test_lab_refuses_float64_values_beyond_float32(tmp_path) -> None:
    from gradstep.lab.data import load_lab_data

    x = np.linspace(0, 1, 12).reshape(6, 2)
    x[0, 0] = 1e300
    path = tmp_path / "big.npz"
    np.savez(path, **_split(x_train=x))
    with pytest.raises(LabError, match="x_train has values too large for float32"):
        load_lab_data(str(path), dtype="float32")
    assert load_lab_data(str(path), dtype="float64").x_train[0, 0] == 1e300


# ---- config files: silently dropped duplicates, alias bombs -------------------------
def _config(tmp_path, name, text):
    from gradstep.lab.options import load_config

    path = tmp_path / name
    path.write_text(text)
    return load_config(path, ["epochs", "tune_epochs", "seeds", "optimizers"])


@pytest.mark.parametrize(
    "name, text",
    [
        ("c.json", '{"epochs": 1, "epochs": 2}'),
        ("c.yaml", "epochs: 1\nepochs: 2\n"),
    ],
)
def test_config_key_given_twice_is_refused(tmp_path, name, text) -> None:
    pytest.importorskip("yaml")
    with pytest.raises(LabError, match="'epochs' appears twice"):
        _config(tmp_path, name, text)


def test_config_option_with_dashes_and_underscores_is_refused(tmp_path) -> None:
    with pytest.raises(LabError, match="'tune_epochs' twice"):
        _config(tmp_path, "c.json", '{"tune-epochs": 1, "tune_epochs": 5}')


def _alias_bomb(levels: int = 7) -> str:
    value = '&a0 ["sgd","sgd","sgd","sgd","sgd","sgd","sgd","sgd","sgd","sgd"]'
    for i in range(1, levels + 1):
        value = f"&a{i} [" + ",".join([value] + [f"*a{i - 1}"] * 9) + "]"
    return value


def test_config_alias_bomb_is_refused_without_expanding(tmp_path) -> None:
    pytest.importorskip("yaml")

    def load():
        with pytest.raises(LabError, match="aliases"):
            _config(tmp_path, "bomb.yaml", "optimizers: " + _alias_bomb() + "\n")

    assert _peak(load) < 16 << 20


def test_config_merge_keys_and_small_aliases_still_work(tmp_path) -> None:
    pytest.importorskip("yaml")
    text = "<<: {epochs: 2}\nepochs: 3\nseeds: &s [1, 2]\noptimizers: [sgd]\n"
    assert _config(tmp_path, "ok.yaml", text) == {
        "epochs": 3,
        "seeds": [1, 2],
        "optimizers": ["sgd"],
    }


def test_model_from_yaml_alias_bomb_is_refused_without_expanding() -> None:
    pytest.importorskip("yaml")
    from gradstep.models import model_from_yaml

    text = (
        "class_name: Sequential\nconfig: {name: s, layers: [{class_name: Dense, "
        "config: {units: 2, batch_input_shape: [null, 3], name: "
        + _alias_bomb()
        + "}}]}\n"
    )

    def load():
        with pytest.raises(ValueError, match="aliases"):
            model_from_yaml(text)

    assert _peak(load) < 16 << 20


def test_model_from_yaml_reads_keras_style_shared_nodes() -> None:
    pytest.importorskip("yaml")
    from gradstep.layers import Dense
    from gradstep.models import Sequential, model_from_yaml

    model = Sequential([Dense(3, input_shape=(4,)), Dense(2)])
    assert model_from_yaml(model.to_yaml()).count_params() == model.count_params()


@pytest.mark.parametrize("kind", ["json", "yaml"])
def test_deeply_nested_model_config_is_a_value_error(kind) -> None:
    from gradstep.models import model_from_json, model_from_yaml

    if kind == "yaml":
        pytest.importorskip("yaml")
    function = model_from_json if kind == "json" else model_from_yaml
    with pytest.raises(ValueError, match="nested too deeply"):
        function("[" * 100_000)


# ---- .h5: weights in big-endian byte order ------------------------------------------
def test_h5_weights_in_big_endian_order_load(tmp_path) -> None:
    h5py = pytest.importorskip("h5py")
    from pathlib import Path

    from gradstep.models import load_model

    source = Path(__file__).parent / "h5" / "fixtures" / "adam_float64.h5"
    path = tmp_path / "be.h5"
    path.write_bytes(source.read_bytes())
    with h5py.File(path, "r+") as f:
        names: list[str] = []
        f.visititems(
            lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None
        )
        for name in names:
            value = np.asarray(f[name][()])
            del f[name]
            f[name] = value.astype(value.dtype.newbyteorder(">"))
    loaded = load_model(str(path))
    expected = load_model(str(source))
    for a, b in zip(loaded.get_weights(), expected.get_weights()):
        assert a.dtype == b.dtype == np.float64
        np.testing.assert_array_equal(a, b)
    a, b = loaded.optimizer.get_weights(), expected.optimizer.get_weights()
    assert all(np.array_equal(u, v) for u, v in zip(a, b))


# ---- gradstep plot --output FOLDER ----------------------------------------------------
def test_plot_output_that_is_a_folder_is_named(tmp_path, capsys) -> None:
    from gradstep.cli import main
    from gradstep.lab.records import RECORD_FORMAT, RECORD_VERSION

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    record = {"format": RECORD_FORMAT, "version": RECORD_VERSION, "kind": "compare"}
    (run_dir / "record.json").write_text(json.dumps(record))
    folder = tmp_path / "figure.png"
    folder.mkdir()
    status = main(["plot", str(run_dir), "--output", str(folder), "--force"])
    err = capsys.readouterr().err
    assert status == 2
    assert f"{folder} is a folder" in err and ".tmp" not in err
    assert list(folder.iterdir()) == []


# ---- CIFAR-10: the unpacked batches are written atomically ---------------------------
def test_cifar10_unpack_leaves_no_batch_when_a_write_fails(
    tmp_path, monkeypatch
) -> None:
    from gradstep import _io
    from gradstep.datasets import cifar10

    record = 1 + 3 * 32 * 32
    archive = tmp_path / "cifar.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"\0" * (record * 10_000)
        info = tarfile.TarInfo(f"{cifar10.FOLDER}/test_batch.bin")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_io.os, "fsync", full_disk)
    target = tmp_path / "out"
    with pytest.raises(DatasetError, match="No space left"):
        cifar10._unpack(archive, target)
    assert list(target.iterdir()) == []


# ---- gradstep h5 convert FILE OUT: OUT a folder or in a missing folder ---------------
@pytest.mark.parametrize(
    "out, words", [("folder", "is a folder"), ("nodir/x.npz", "nodir")]
)
def test_h5_convert_names_an_unwritable_out(tmp_path, capsys, out, words) -> None:
    pytest.importorskip("h5py")
    from pathlib import Path

    from gradstep.cli import main

    (tmp_path / "folder").mkdir()
    source = Path(__file__).parent / "h5" / "fixtures" / "adam_float64.h5"
    target = tmp_path / out
    status = main(["h5", "convert", str(source), str(target), "--force"])
    err = capsys.readouterr().err
    assert status == 2, err
    assert words in err and str(target) in err and ".npz." not in err
    assert list((tmp_path / "folder").iterdir()) == []


def test_h5_reader_names_a_folder_given_as_file(tmp_path) -> None:
    pytest.importorskip("h5py")
    from gradstep.models.h5 import load_model

    with pytest.raises(ValueError, match="is not a file"):
        load_model(str(tmp_path))


# ---- Boston Housing: the arrays' dtype, columns and values were not checked ----------
@pytest.mark.parametrize(
    "x, y, words",
    [
        (np.array([["a"] * 13] * 5), np.array(["b"] * 5), "x has dtype <U1"),
        (np.ones((5, 2)), np.ones(5), "expected (n, 13)"),
        (np.ones((5, 13)), np.array([1, 2, np.nan, 4, 5.0]), "y contains NaN"),
    ],
    ids=["strings", "columns", "nan"],
)
def test_boston_housing_bad_arrays_are_refused(tmp_path, x, y, words) -> None:
    from gradstep.datasets import boston_housing

    path = tmp_path / "boston_housing.npz"
    np.savez(path, x=x, y=y)
    with pytest.raises(DatasetError) as info:
        boston_housing.load_data(path=str(path))
    assert words in str(info.value) and str(path) in str(info.value)


# ---- the lab: one large label in a tiny file made gigabytes of one-hot zeros ---------
def test_lab_refuses_a_one_hot_matrix_far_beyond_the_file(tmp_path) -> None:
    from gradstep.lab.data import load_lab_data

    n = 20_000
    y = np.zeros(n, np.uint16)
    y[0] = 65535
    path = tmp_path / "classes.npz"
    np.savez_compressed(
        path,
        x_train=np.zeros((n, 1), np.uint8),
        y_train=y,
        x_test=np.zeros((2, 1), np.uint8),
        y_test=np.zeros(2, np.uint16),
    )
    assert path.stat().st_size < 10_000

    def load():
        with pytest.raises(LabError, match="65536 classes.*more than"):
            load_lab_data(str(path))

    assert _peak(load) < 16 << 20
