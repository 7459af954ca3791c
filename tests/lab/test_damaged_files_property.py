"""Random bit flips and truncations of small data, paths and record files: always the
documented error naming the file, or a correct load; never another exception."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradstep._npz import read_arrays
from gradstep.datasets import DatasetError, load_npz, read_idx, write_idx
from gradstep.lab._errors import LabError
from gradstep.lab.records import read_record

from ._fake import fake_mnist

SMALL = {k: v[:3] for k, v in fake_mnist(n_train=3, n_test=3).items()}
damage = st.tuples(
    st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 7)), max_size=6),
    st.one_of(st.none(), st.integers(0, 10**9)),
)
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _damaged(data: bytes, flips, cut) -> bytes:
    raw = bytearray(data)
    for position, bit in flips:
        if raw:
            raw[position % len(raw)] ^= 1 << bit
    if cut is not None and raw:
        raw = raw[: cut % (len(raw) + 1)]
    return bytes(raw)


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    folder = tmp_path_factory.mktemp("originals")
    np.savez_compressed(folder / "c.npz", **SMALL)
    np.savez(folder / "u.npz", **SMALL)
    write_idx(folder / "i.gz", SMALL["x_train"], compress=True)
    return {name: (folder / name).read_bytes() for name in ("c.npz", "u.npz", "i.gz")}


@SETTINGS
@given(name=st.sampled_from(["c.npz", "u.npz"]), hurt=damage)
def test_damaged_npz(tmp_path, originals, name, hurt):
    path = tmp_path / name
    path.write_bytes(_damaged(originals[name], *hurt))
    try:
        (x, _), _ = load_npz(path)
    except DatasetError as exc:
        assert str(path) in str(exc)
    else:
        assert x.shape[0] >= 1
    try:
        read_arrays(path, ["x_train"], LabError)
    except LabError as exc:
        assert str(path) in str(exc)


@SETTINGS
@given(hurt=damage)
def test_damaged_gzip_idx(tmp_path, originals, hurt):
    path = tmp_path / "i.gz"
    path.write_bytes(_damaged(originals["i.gz"], *hurt))
    try:
        array = read_idx(path)
    except DatasetError as exc:
        assert str(path) in str(exc)
    else:
        assert array.nbytes <= 1 << 20


@SETTINGS
@given(hurt=damage)
def test_damaged_record(tmp_path, hurt):
    text = '{"format": "gradstep-lab-record", "version": 1, "kind": "compare"}'
    path = tmp_path / "record.json"
    path.write_bytes(_damaged(text.encode(), *hurt))
    try:
        read_record(path)
    except LabError as exc:
        assert str(path) in str(exc)
