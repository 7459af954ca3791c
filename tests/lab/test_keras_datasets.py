"""Keras 2.2.4's CIFAR-10 and Boston Housing loaders: Keras's return values, from local
files or a sha256-verified download (a loopback server here), clear errors otherwise."""

from __future__ import annotations

import io
import tarfile

import numpy as np
import pytest

from gradstep import backend
from gradstep.datasets import DatasetError, boston_housing, cifar10

from ._server import serve


@pytest.fixture
def homes(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("GRADSTEP_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


# ---- Boston Housing ------------------------------------------------------------------
def _boston(folder):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(506, 13)), rng.normal(size=506)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "boston_housing.npz", x=x, y=y)
    return x, y


def test_boston_housing_is_keras_split_from_the_keras_cache(homes):
    x, y = _boston(homes / "keras" / "datasets")
    (x_train, y_train), (x_test, y_test) = boston_housing.load_data()
    order = np.arange(506)
    np.random.RandomState(113).shuffle(order)  # what np.random.seed(113) gives Keras
    np.testing.assert_array_equal(x_train, x[order][:404])
    np.testing.assert_array_equal(y_test, y[order][404:])
    assert x_train.shape == (404, 13) and x_test.shape == (102, 13)
    assert y_train.dtype == np.float64
    # Keras leaves NumPy's global generator seeded, and so does gradstep
    replay = np.random.RandomState(113)
    replay.shuffle(np.arange(506))
    assert np.random.random() == replay.random_sample()


def test_boston_housing_other_split_and_seed(homes):
    x, _ = _boston(homes / "keras" / "datasets")
    (x_train, _), (x_test, _) = boston_housing.load_data(test_split=0.5, seed=1)
    order = np.arange(506)
    np.random.RandomState(1).shuffle(order)
    np.testing.assert_array_equal(x_test, x[order][253:])


def test_boston_housing_missing_or_bad(homes):
    with pytest.raises(DatasetError, match="Boston Housing not found: put boston"):
        boston_housing.load_data()
    with pytest.raises(ValueError, match=r"test_split must be a number in \[0, 1\)"):
        boston_housing.load_data(test_split=1.0)


def test_boston_housing_download_keeps_only_the_published_file(homes, monkeypatch):
    _boston(homes / "srv")
    with serve(homes / "srv") as url:
        monkeypatch.setattr(boston_housing, "ORIGIN", url + "boston_housing.npz")
        with pytest.raises(DatasetError, match="sha256 mismatch"):
            boston_housing.load_data(download=True)
    assert not (homes / "cache" / "boston_housing.npz").exists()


# ---- CIFAR-10 --------------------------------------------------------------------------
def _batches(folder, seed=0, per_batch=10_000):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    records = {}
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        data = rng.integers(0, 256, size=(per_batch, 3073), dtype=np.uint8)
        data[:, 0] %= 10
        data.tofile(folder / name)
        records[name] = data
    return records


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """Six batch files (184 MB), written once for the module."""
    folder = tmp_path_factory.mktemp("cifar") / "cifar-10-batches-bin"
    return folder, _batches(folder)


def test_cifar10_from_the_binary_batches(homes, written):
    folder, records = written
    (homes / "keras" / "datasets").mkdir(parents=True)
    (homes / "keras" / "datasets" / "cifar-10-batches-bin").symlink_to(folder)
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (50_000, 32, 32, 3) and y_train.shape == (50_000, 1)
    assert x_test.shape == (10_000, 32, 32, 3) and y_test.shape == (10_000, 1)
    assert x_train.dtype == y_train.dtype == np.uint8
    third = records["data_batch_3.bin"]
    image = 20_000 + 7  # batch 3, record 7: label, then the red, green, blue planes
    assert y_train[image, 0] == third[7, 0]
    np.testing.assert_array_equal(
        x_train[image, :, :, 0], third[7, 1:1025].reshape(32, 32)
    )
    np.testing.assert_array_equal(
        x_train[image, :, :, 2], third[7, 2049:].reshape(32, 32)
    )
    np.testing.assert_array_equal(y_test[:, 0], records["test_batch.bin"][:, 0])


def test_cifar10_channels_first(homes, written):
    backend.set_image_data_format("channels_first")
    try:
        (x_train, _), _ = cifar10.load_data(written[0])
    finally:
        backend.set_image_data_format("channels_last")
    assert x_train.shape == (50_000, 3, 32, 32)


def test_cifar10_refuses_pickles_and_damaged_batches(homes):
    (homes / "keras" / "datasets" / "cifar-10-batches-py").mkdir(parents=True)
    with pytest.raises(DatasetError, match="pickled batches, which gradstep does not"):
        cifar10.load_data()
    folder = homes / "data"
    folder.mkdir()
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        (folder / name).write_bytes(b"")
    (folder / "data_batch_1.bin").write_bytes(bytes(30_730_001))
    with pytest.raises(DatasetError, match="data_batch_1.bin holds 30730001 bytes"):
        cifar10.load_data(folder)


def test_cifar10_download_and_unpack(homes, monkeypatch):
    monkeypatch.setattr(cifar10, "_PER_BATCH", 10)  # small batches: a quick archive
    folder = homes / "parts"
    records = _batches(folder, per_batch=10)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as tar:
        for name in records:
            tar.add(folder / name, arcname=f"cifar-10-batches-bin/{name}")
        info = tarfile.TarInfo("cifar-10-batches-bin/readme.html")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"hi!\n"))
    (homes / "srv").mkdir()
    (homes / "srv" / cifar10.ARCHIVE).write_bytes(buffer.getvalue())
    import hashlib

    monkeypatch.setattr(
        cifar10, "SHA256", hashlib.sha256(buffer.getvalue()).hexdigest()
    )
    with serve(homes / "srv") as url:
        monkeypatch.setattr(cifar10, "ORIGIN", url + cifar10.ARCHIVE)
        (_, y_train), _ = cifar10.load_data(download=True)
    np.testing.assert_array_equal(y_train[:10, 0], records["data_batch_1.bin"][:, 0])
    unpacked = sorted(
        p.name for p in (homes / "cache" / "cifar-10-batches-bin").iterdir()
    )
    assert "readme.html" not in unpacked and len(unpacked) == 6
