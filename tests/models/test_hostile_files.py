"""Damaged and hostile model files (issue 13): every one gets the documented
``ValueError`` naming the file, within bounded memory and time, and never changes the
model it is loaded into. Files that ask for more memory than they hold are loaded in a
subprocess whose address space is capped, so a regression fails instead of exhausting
the machine."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradstep import optimizers
from gradstep.layers import Dense
from gradstep.models import Sequential, load_model

MEMORY_CAP = 768 * 2**20  # address space of the subprocess: gradstep + numpy ~150 MB


def _model():
    model = Sequential([Dense(3, input_shape=(4,)), Dense(2)], seed=0)
    model.compile(optimizer=optimizers.Nadam(clipnorm=1.0), loss="mse")
    model.fit(np.ones((8, 4)), np.ones((8, 2)), epochs=1, verbose=0)
    return model


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("model") / "m.npz"
    _model().save(path)
    return path.read_bytes()


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _header(data: bytes) -> dict:
    text = np.load(io.BytesIO(_members(data)["__gradstep__.npy"]), allow_pickle=False)
    return json.loads(str(text))


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _npy_header_only(shape, dtype="<f8") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": dtype, "fortran_order": False, "shape": tuple(shape)}
    )
    return buffer.getvalue()


def _archive(members: dict[str, bytes], compress: dict[str, int] | None = None):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, payload in members.items():
            kind = (compress or {}).get(name, zipfile.ZIP_STORED)
            archive.writestr(name, payload, compress_type=kind)
    return buffer.getvalue()


def _with_header(data: bytes, header: dict, **replace: bytes) -> bytes:
    members = _members(data)
    members["__gradstep__.npy"] = _npy(np.array(json.dumps(header)))
    members.update(replace)
    return _archive(members)


def _load_capped(path: Path) -> str:
    """``load_model(path)`` in a subprocess with its address space capped: prints OK,
    or the ValueError's message; anything else (MemoryError) fails the test."""
    code = textwrap.dedent(
        f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_CAP}, {MEMORY_CAP}))
        from gradstep.models import load_model
        try:
            load_model(sys.argv[1])
        except ValueError as exc:
            print("ValueError:", exc)
        else:
            print("OK")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


# ---- files asking for more memory than they hold ----------------------------------------
def test_declared_weight_shapes_larger_than_the_data(saved, tmp_path):
    header = _header(saved)
    header["weights"][0]["shape"] = [400_000, 400_000]  # 1.3 TB of float64
    data = _with_header(
        saved, header, **{"weight_0000.npy": _npy_header_only((400_000, 400_000))}
    )
    path = tmp_path / "huge.npz"
    path.write_bytes(data)
    assert path.stat().st_size < 16_000
    message = _load_capped(path)
    assert message.startswith(f"ValueError: {path}")
    assert "arrays declare 1280000000" in message and "more than the file's" in message


def test_a_model_config_asking_for_more_weights_than_the_file_holds(saved, tmp_path):
    header = _header(saved)
    header["model_config"]["config"]["layers"][0]["config"]["units"] = 300_000_000
    path = tmp_path / "wide.npz"
    path.write_bytes(_with_header(saved, header))
    message = _load_capped(path)
    assert message.startswith(f"ValueError: {path}: the model config asks for weights")


def test_counts_in_the_header_do_not_size_anything(saved, tmp_path):
    header = _header(saved)
    header["optimizer_weights"] = 10**12
    path = tmp_path / "count.npz"
    path.write_bytes(_with_header(saved, header))
    message = _load_capped(path)
    assert "declares 4 weight and 1000000000000 optimizer arrays" in message
    assert "the file holds 14 arrays" in message


def test_an_unknown_member_is_refused_without_inflating_it(saved, tmp_path):
    members = _members(saved)
    members["extra.npy"] = b"\0" * 50_000_000  # a deflate bomb: 50 MB in ~50 KB
    data = _archive(members, {"extra.npy": zipfile.ZIP_DEFLATED})
    path = tmp_path / "bomb.npz"
    path.write_bytes(data)
    assert path.stat().st_size < 200_000
    assert "unknown member 'extra.npy' (not read)" in _load_capped(path)


def test_a_compressed_weight_member_is_refused(saved, tmp_path):
    path = tmp_path / "deflated.npz"
    path.write_bytes(
        _archive(_members(saved), {"weight_0000.npy": zipfile.ZIP_DEFLATED})
    )
    with pytest.raises(ValueError, match="array 'weight_0000' is compressed"):
        load_model(path)


# ---- damaged files: the documented error, naming the file -------------------------------
@pytest.mark.parametrize(
    "dtype", ["int8", "bool", "<U4", "complex128", "float16-shape", "uint8"]
)
def test_non_float_weights_are_refused(saved, tmp_path, dtype):
    header = _header(saved)
    shape = tuple(header["weights"][0]["shape"])
    if dtype == "float16-shape":
        value = np.zeros((1, 1), np.float16)
        match = "has shape"
    else:
        value = np.zeros(shape, dtype)
        match = f"has dtype {np.dtype(dtype)}; model weights must be floats"
    path = tmp_path / "bad.npz"
    path.write_bytes(_with_header(saved, header, **{"weight_0000.npy": _npy(value)}))
    with pytest.raises(ValueError, match=match):
        load_model(path)


def test_object_arrays_are_refused_without_unpickling(saved, tmp_path):
    header = _header(saved)
    path = tmp_path / "object.npz"
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "|O", "fortran_order": False, "shape": (3, 4)}
    )
    path.write_bytes(
        _with_header(
            saved, header, **{"weight_0000.npy": buffer.getvalue() + b"x" * 96}
        )
    )
    with pytest.raises(ValueError, match="holds Python objects"):
        load_model(path)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda data: _npy(np.ones(3)), "it is a .npy array"),
        (lambda data: b"not a model at all", "it is not a zip file"),
        (lambda data: b"", "it is not a zip file"),
        (lambda data: data[: len(data) // 2], "truncated or corrupt"),
        (lambda data: data[:-30], "truncated or corrupt"),
    ],
    ids=["plain_npy", "text", "empty", "half", "cut_directory"],
)
def test_files_that_are_not_model_files(saved, tmp_path, make, match):
    path = tmp_path / "odd.npz"
    path.write_bytes(make(saved))
    with pytest.raises(ValueError, match=match) as error:
        load_model(path)
    assert str(path) in str(error.value)


def test_a_deeply_nested_header_is_refused(saved, tmp_path):
    members = _members(saved)
    members["__gradstep__.npy"] = _npy(np.array("[" * 100_000 + "]" * 100_000))
    path = tmp_path / "deep.npz"
    path.write_bytes(_archive(members))
    with pytest.raises(ValueError, match="nested too deeply"):
        load_model(path)


def test_a_damaged_npy_header_is_refused(saved, tmp_path):
    members = _members(saved)
    payload = bytearray(members["weight_0000.npy"])
    payload[10:40] = b"{'descr': '<f8', 'shape': ((("
    members["weight_0000.npy"] = bytes(payload)
    path = tmp_path / "npyheader.npz"
    path.write_bytes(_archive(members))
    with pytest.raises(ValueError, match=str(path)):
        load_model(path)


@pytest.mark.parametrize(
    "index, value, match",
    [
        (0, np.array(2**63, np.uint64), "iterations must be an integer"),
        (1, np.array(np.nan), "m_schedule must be finite"),
        (1, np.array(3.0), r"m_schedule must be in \(0, 1\]"),
        (2, np.zeros((4, 3), complex), "expected real numbers"),
    ],
)
def test_impossible_optimizer_state_in_a_file(saved, tmp_path, index, value, match):
    header = _header(saved)
    path = tmp_path / "state.npz"
    path.write_bytes(
        _with_header(
            saved, header, **{f"optimizer_weight_{index:04d}.npy": _npy(value)}
        )
    )
    with pytest.raises(ValueError, match=match):
        load_model(path)


def test_load_weights_leaves_the_model_unchanged_on_a_damaged_file(saved, tmp_path):
    model = _model()
    before = model.get_weights()
    path = tmp_path / "cut.npz"
    path.write_bytes(saved[: len(saved) - 200])
    with pytest.raises(ValueError, match=str(path)):
        model.load_weights(path)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_bit_flips_and_truncations_give_the_documented_error_or_a_load(
    saved, tmp_path_factory, data
):
    damaged = bytearray(saved)
    if data.draw(st.booleans(), label="truncate"):
        damaged = damaged[: data.draw(st.integers(0, len(saved) - 1), label="at")]
    else:
        for _ in range(data.draw(st.integers(1, 8), label="flips")):
            at = data.draw(st.integers(0, len(saved) - 1))
            damaged[at] ^= 1 << data.draw(st.integers(0, 7))
    path = tmp_path_factory.mktemp("flip") / "m.npz"
    path.write_bytes(bytes(damaged))
    try:
        model = load_model(path)
    except ValueError as exc:
        assert str(path) in str(exc)
    else:
        # a flip inside the float data of a weight (the CRC catches the others)
        assert model.built


def test_saved_files_follow_the_umask(tmp_path):
    import os

    old = os.umask(0o027)
    try:
        _model().save(tmp_path / "m.npz")
    finally:
        os.umask(old)
    assert (tmp_path / "m.npz").stat().st_mode & 0o777 == 0o640
