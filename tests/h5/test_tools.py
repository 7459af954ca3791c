"""``describe`` (a file's report) and ``convert`` (.h5 <-> .npz) keep Keras's numbers."""

from __future__ import annotations

import pytest

pytest.importorskip("h5py")

from gradstep.models import load_model  # noqa: E402
from gradstep.models.h5 import convert, describe  # noqa: E402

from ._util import FIXTURES  # noqa: E402
from .test_keras_files import check_continuation  # noqa: E402


def test_describe() -> None:
    text = describe(FIXTURES / "nadam_float64.h5")
    for part in ("keras_version: 2.2.4", "backend: theano", "Nadam", "dense_2"):
        assert part in text
    assert "Nadam/iterations: shape () int64" in text
    assert "not saved by Keras 2.2.4: m_schedule" in text
    assert "saved without optimizer" in describe(FIXTURES / "no_optimizer_float64.h5")


@pytest.mark.parametrize("name", ["nadam_float64", "rmsprop_decay_clipnorm_float64"])
def test_convert_both_ways(name: str, tmp_path) -> None:
    npz, h5 = tmp_path / "model.npz", tmp_path / "back.h5"
    convert(FIXTURES / f"{name}.h5", npz)
    check_continuation(load_model(npz), name)
    convert(npz, h5)
    check_continuation(load_model(h5), name)
    with pytest.raises(FileExistsError):
        convert(npz, h5)
