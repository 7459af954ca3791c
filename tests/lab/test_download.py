"""Downloads against a loopback HTTP server: verified, atomic, and clear on failure."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from gradstep.datasets import DatasetError, download, mnist

from ._fake import fake_mnist, write_idx_set, write_npz
from ._server import serve


def _leftovers(directory):
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_download_verifies_and_moves_into_place(tmp_path):
    payload = bytes(range(256)) * 1000
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv" / "blob.bin").write_bytes(payload)
    seen = []
    with serve(tmp_path / "srv") as url:
        dest = download(
            url + "blob.bin",
            tmp_path / "out" / "blob.bin",
            hashlib.sha256(payload).hexdigest(),
            progress=lambda done, total: seen.append((done, total)),
        )
    assert dest.read_bytes() == payload
    assert seen[-1] == (len(payload), len(payload))
    assert _leftovers(tmp_path / "out") == ["blob.bin"]


def test_download_with_wrong_sha256_keeps_nothing(tmp_path):
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv" / "blob.bin").write_bytes(b"not what you expect")
    wrong = hashlib.sha256(b"something else").hexdigest()
    with serve(tmp_path / "srv") as url, pytest.raises(DatasetError) as info:
        download(url + "blob.bin", tmp_path / "out" / "blob.bin", wrong)
    actual = hashlib.sha256(b"not what you expect").hexdigest()
    assert f"expected {wrong}, got {actual}" in str(info.value)
    assert "discarded" in str(info.value)
    assert _leftovers(tmp_path / "out") == []


def test_download_http_error(tmp_path):
    (tmp_path / "srv").mkdir()
    with serve(tmp_path / "srv") as url, pytest.raises(DatasetError, match="HTTP 404"):
        download(url + "missing.npz", tmp_path / "out" / "x", "0" * 64)
    assert _leftovers(tmp_path / "out") == []


def test_download_connection_refused(tmp_path):
    with serve(tmp_path) as url:
        pass  # the port is closed again
    with pytest.raises(DatasetError, match="download of .* failed"):
        download(url + "x", tmp_path / "out" / "x", "0" * 64, timeout=5)


def test_download_rejects_other_schemes(tmp_path):
    with pytest.raises(DatasetError, match="http:// or https://"):
        download("file:///etc/passwd", tmp_path / "x", "0" * 64)


def test_mnist_download_into_cache_then_reuse(tmp_path):
    arrays = fake_mnist()
    served = write_npz(tmp_path / "srv", arrays, "fake-mnist.npz")
    digest = hashlib.sha256(served.read_bytes()).hexdigest()
    with serve(tmp_path / "srv") as url:
        with pytest.raises(DatasetError, match="needs its sha256"):
            mnist.load(download=True, url=url + "fake-mnist.npz")
        ((x, y), _), found = mnist.load(
            download=True, url=url + "fake-mnist.npz", sha256=digest
        )
    assert found.npz == tmp_path / "cache" / "mnist.npz"
    np.testing.assert_array_equal(x, arrays["x_train"])
    np.testing.assert_array_equal(y, arrays["y_train"])
    # Offline afterwards: found in the cache without a download.
    ((x2, _), _), again = mnist.load()
    assert again.npz == found.npz
    np.testing.assert_array_equal(x2, x)


def test_mnist_download_replaces_a_corrupt_cached_copy(tmp_path):
    arrays = fake_mnist()
    served = write_npz(tmp_path / "srv", arrays, "fake-mnist.npz")
    digest = hashlib.sha256(served.read_bytes()).hexdigest()
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "mnist.npz").write_bytes(b"garbage")
    with serve(tmp_path / "srv") as url:
        (_, (xt, _)), found = mnist.load(
            download=True, url=url + "fake-mnist.npz", sha256=digest
        )
    np.testing.assert_array_equal(xt, arrays["x_test"])
    assert found.npz.read_bytes() == served.read_bytes()


def test_fashion_mnist_download_is_verified_then_used_offline(tmp_path, monkeypatch):
    from gradstep.datasets import fashion_mnist

    paths = write_idx_set(tmp_path / "srv", fake_mnist(), compress=True)
    digests = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths.values()
    }
    monkeypatch.setattr(fashion_mnist, "SHA256", digests)
    with serve(tmp_path / "srv") as url:
        monkeypatch.setattr(fashion_mnist, "KERAS_BASE_URL", url)
        (x, _), _ = fashion_mnist.load_data(download=True)
        bad = dict(digests, **{"t10k-labels-idx1-ubyte.gz": "0" * 64})
        monkeypatch.setattr(fashion_mnist, "SHA256", bad)
        with pytest.raises(DatasetError, match="sha256 mismatch"):
            fashion_mnist.load(tmp_path / "other", download=True)
    assert x.shape == (60, 28, 28)
    cached = tmp_path / "cache" / "fashion-mnist"
    assert sorted(p.name for p in cached.iterdir()) == sorted(digests)
    (x2, _), _ = fashion_mnist.load_data()  # offline now: found in gradstep's cache
    np.testing.assert_array_equal(x2, x)
