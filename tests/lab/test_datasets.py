"""Loading MNIST (npz and IDX, gzipped or raw), the digits split and user .npz files."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from gradstep.datasets import DatasetError, digits, load_npz, mnist, read_idx, write_idx
from gradstep.datasets._download import sha256_of

from ._fake import fake_mnist, write_idx_set, write_npz


@pytest.mark.parametrize(
    "dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"]
)
@pytest.mark.parametrize("compress", [False, True])
def test_idx_round_trip(tmp_path, dtype, compress):
    array = (np.arange(2 * 3 * 4) - 5).reshape(2, 3, 4).astype(dtype)
    if dtype == "uint8":
        array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "a.idx"
    write_idx(path, array, compress=compress)
    back = read_idx(path)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_idx_header_layout_matches_the_format(tmp_path):
    path = tmp_path / "labels"
    write_idx(path, np.array([7, 2, 1], dtype=np.uint8))
    # magic 0x00000801 (ubyte, 1 dimension), then 3 as a big-endian uint32, then data
    assert path.read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1])


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_idx_is_reported(tmp_path, compress):
    array = np.zeros((5, 28, 28), dtype=np.uint8)
    path = tmp_path / "images"
    write_idx(path, array)
    raw = path.read_bytes()[:-100]
    path.write_bytes(gzip.compress(raw) if compress else raw)
    with pytest.raises(
        DatasetError, match=r"images is truncated: .*promises 3920 data bytes"
    ):
        read_idx(path)


def test_truncated_gzip_is_reported(tmp_path):
    path = tmp_path / "images.gz"
    write_idx(path, np.zeros((5, 28, 28), dtype=np.uint8), compress=True)
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(DatasetError, match="truncated gzip file"):
        read_idx(path)


def test_gzip_crc_failure_is_reported(tmp_path):
    path = tmp_path / "labels.gz"
    write_idx(path, np.arange(200, dtype=np.uint8) % 10, compress=True)
    data = bytearray(path.read_bytes())
    data[-8] ^= 0xFF  # the stored CRC-32 of the uncompressed data
    path.write_bytes(bytes(data))
    with pytest.raises(DatasetError, match="corrupt gzip file .*CRC"):
        read_idx(path)


def test_not_idx_and_overlong_files(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(DatasetError, match="not an IDX file"):
        read_idx(path)
    write_idx(path, np.zeros(3, dtype=np.uint8))
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(DatasetError, match="bytes after the data"):
        read_idx(path)


@pytest.mark.parametrize("form", ["npz", "idx", "idx.gz"])
def test_mnist_loads_each_format_from_data_dir(tmp_path, form):
    arrays = fake_mnist()
    directory = tmp_path / "data"
    if form == "npz":
        write_npz(directory, arrays)
    else:
        write_idx_set(directory, arrays, compress=form == "idx.gz")
    ((x, y), (xt, yt)), found = mnist.load(directory)
    for key, value in zip(("x_train", "y_train", "x_test", "y_test"), (x, y, xt, yt)):
        np.testing.assert_array_equal(value, arrays[key])
        assert value.dtype == arrays[key].dtype
    assert found.directory == directory
    assert (found.npz is not None) == (form == "npz")


def test_mnist_found_in_keras_cache_then_gradstep_cache(tmp_path):
    arrays = fake_mnist()
    write_idx_set(tmp_path / "cache", arrays, compress=True)  # $GRADSTEP_CACHE_DIR
    (_, _), found = mnist.load()
    assert found.directory == tmp_path / "cache"
    keras = tmp_path / "home" / ".keras" / "datasets"
    write_npz(keras, arrays)
    (_, _), found = mnist.load()
    assert found.npz == keras / "mnist.npz"


def test_mnist_missing_says_where_to_put_which_file(tmp_path):
    with pytest.raises(DatasetError) as info:
        mnist.load()
    message = str(info.value)
    assert "\n" not in message
    for expected in (
        "mnist.npz",
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
        str(tmp_path / "home" / ".keras" / "datasets"),
        str(tmp_path / "cache"),
        "--download",
    ):
        assert expected in message


def test_mnist_partial_idx_set_names_missing_files(tmp_path):
    paths = write_idx_set(tmp_path / "d", fake_mnist(), compress=False)
    paths["y_test"].unlink()
    with pytest.raises(DatasetError, match="missing t10k-labels-idx1-ubyte"):
        mnist.load(tmp_path / "d")


def test_mnist_bad_checksum_of_local_file(tmp_path):
    path = write_npz(tmp_path / "d", fake_mnist())
    actual = sha256_of(path)
    assert mnist.load(tmp_path / "d", sha256=actual)[1].npz == path
    with pytest.raises(DatasetError, match=f"has sha256 {actual}, expected 0{{63}}1"):
        mnist.load(tmp_path / "d", sha256="0" * 63 + "1")
    with pytest.raises(DatasetError, match="64 hexadecimal digits"):
        mnist.load(tmp_path / "d", sha256="xyz")


def test_mnist_truncated_npz(tmp_path):
    path = write_npz(tmp_path / "d", fake_mnist())
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DatasetError, match="truncated or corrupt"):
        mnist.load(tmp_path / "d")


def test_mnist_wrong_image_shape(tmp_path):
    arrays = fake_mnist()
    arrays["x_train"] = arrays["x_train"][:, :20, :]
    arrays["x_test"] = arrays["x_test"][:, :20, :]
    write_npz(tmp_path / "d", arrays)
    with pytest.raises(DatasetError, match=r"x_train has shape \(60, 20, 28\)"):
        mnist.load(tmp_path / "d")


def test_user_npz_errors(tmp_path):
    arrays = fake_mnist()
    del arrays["y_test"]
    path = write_npz(tmp_path, arrays, "mine.npz")
    with pytest.raises(DatasetError, match="lacks y_test"):
        load_npz(path)
    arrays = fake_mnist()
    arrays["y_train"] = arrays["y_train"][:-1]
    with pytest.raises(DatasetError, match="y_train has shape .* one label per sample"):
        load_npz(write_npz(tmp_path, arrays, "mine.npz"))
    arrays = fake_mnist()
    arrays["y_test"] = np.array([{}] * 20, dtype=object)
    np.savez(tmp_path / "obj.npz", **arrays)
    with pytest.raises(DatasetError, match="without pickle"):
        load_npz(tmp_path / "obj.npz")
    with pytest.raises(DatasetError, match="does not exist"):
        load_npz(tmp_path / "none.npz")


def test_digits_split_is_fixed_and_complete():
    load_digits = pytest.importorskip("sklearn.datasets").load_digits

    (x, y), (xt, yt) = digits.load_data()
    bunch = load_digits()
    assert x.shape == (1437, 8, 8) and xt.shape == (360, 8, 8)
    np.testing.assert_array_equal(xt, bunch.images[::5])
    np.testing.assert_array_equal(yt, bunch.target[::5])
    train = np.delete(np.arange(1797), np.arange(0, 1797, 5))
    np.testing.assert_array_equal(x, bunch.images[train])
    np.testing.assert_array_equal(y, bunch.target[train])
