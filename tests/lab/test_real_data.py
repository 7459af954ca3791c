"""The tutorial preset on the real Fashion-MNIST files of Debian's dataset-fashion-mnist
package (installed by .ci/run); skipped cleanly where the package is absent."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gradstep.datasets import fashion_mnist

from ._cli import run

pytest.importorskip("matplotlib")
DEBIAN = fashion_mnist.DEBIAN_DIR  # read at import, before conftest hides it
needs_package = pytest.mark.skipif(
    not all((DEBIAN / f"{n}.gz").is_file() for n in fashion_mnist.IDX_NAMES.values()),
    reason="Debian's dataset-fashion-mnist is not installed "
    "(apt-get install dataset-fashion-mnist)",
)


@needs_package
def test_keras_style_load_data_reads_the_debian_package(monkeypatch):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", DEBIAN)
    (x, y), (xt, yt) = fashion_mnist.load_data()
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (60000,) and y.dtype == np.uint8
    assert xt.shape == (10000, 28, 28) and yt.shape == (10000,)
    assert sorted(np.unique(y)) == list(range(10))
    assert np.bincount(yt).tolist() == [1000] * 10


@needs_package
def test_tutorial_preset_on_real_fashion_mnist(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", DEBIAN)
    status, out, err = run(
        capsys,
        "compare",
        "--preset",
        "tutorial",
        "--dataset",
        "fashion-mnist",
        "--epochs",
        "3",
        "--limit-train",
        "12000",
        "--limit-test",
        "2000",
        "-q",
        "--out",
        tmp_path / "run",
    )
    assert status == 0, err
    record = json.loads((tmp_path / "run" / "record.json").read_text())
    assert record["dataset"]["name"] == "fashion-mnist"
    assert record["dataset"]["sha256"] == {
        str(DEBIAN / name): digest for name, digest in fashion_mnist.SHA256.items()
    }  # every input file's digest, by path
    assert record["model"]["description"].startswith("Dense MLP 784-50-10")
    assert record["model"]["kernel_initializer"] == "he_normal"
    assert record["training"]["batch_size"] == 6000
    labels = [item["optimizer"] for item in record["summary"]]
    assert labels == ["SGD", "SGD, lr x0.98/epoch", "RMSprop", "Adam", "Adamax"]
    final = {
        item["optimizer"]: item["final"]["acc"]["mean"] for item in record["summary"]
    }
    # Three epochs of two batches: the adaptive methods are well ahead of plain SGD.
    assert final["Adam"] > final["SGD"] + 0.1
    assert final["RMSprop"] > final["SGD"] + 0.1
    assert "Adamax" in out
