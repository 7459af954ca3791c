"""Damaged and hostile data, record, paths and config files: the documented one-line
error naming the file, never MemoryError, a traceback or "unexpected ..."."""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from gradstep.datasets import DatasetError, load_npz, read_idx, write_idx
from gradstep.lab._errors import LabError
from gradstep.lab.options import load_config
from gradstep.lab.records import read_csv, read_record

from ._cli import assert_one_line_error, run
from ._fake import fake_mnist, write_npz

_LIMITED = """
import resource, sys
limit = 1 << 30
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from gradstep.datasets import DatasetError, read_idx
try:
    read_idx(sys.argv[1])
except DatasetError as exc:
    print(exc)
"""


def test_gzip_idx_with_a_gigabyte_of_trailing_data_is_refused_without_inflating(
    tmp_path,
):
    body = bytes([0, 0, 8, 1]) + struct.pack(">I", 3) + bytes([1, 2, 3])
    # 64 gzip members of 16 MiB of zeros each: a gigabyte once inflated, compressed once.
    zeros = gzip.compress(bytes(16 << 20), compresslevel=1)
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(body + bytes(1 << 20)) + zeros * 64)
    # In a subprocess whose address space is capped at 1 GiB: inflating the trailing
    # data would fail there with MemoryError instead of passing by accident.
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, "-c", _LIMITED, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "labels.gz has bytes after the data" in done.stdout, done.stdout


def test_idx_declaring_a_huge_shape_is_refused_before_allocating(tmp_path):
    path = tmp_path / "images"
    path.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">3I", 2**32 - 1, 28, 28))
    with pytest.raises(DatasetError, match=r"images declares shape .*not a valid"):
        read_idx(path)


def test_label_value_two_to_the_forty_is_a_named_error(tmp_path):
    arrays = fake_mnist()
    arrays["y_train"] = arrays["y_train"].astype(np.float64)
    arrays["y_train"][0] = 2.0**40
    path = write_npz(tmp_path, arrays, "big-label.npz")
    with pytest.raises(
        DatasetError, match=r"big-label.npz: y_train has the class label"
    ):
        load_npz(path)
    idx = tmp_path / "labels"
    write_idx(idx, np.array([1, 2**40], dtype=np.float64))
    assert read_idx(idx).max() == 2.0**40  # IDX itself is fine; the set check refuses


def _corrupt_member(path):
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("x_train.npy")
    start = info.header_offset + 30 + len(info.filename) + 20
    for i in range(start, start + 40):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


def test_corrupt_compressed_npz_member_is_a_named_error(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez_compressed(path, **fake_mnist())
    _corrupt_member(path)
    with pytest.raises(DatasetError, match=r"mnist.npz is truncated or corrupt"):
        load_npz(path)


def test_npz_member_declaring_more_than_it_holds_is_refused(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)}
    )
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for key in ("x_train", "y_train", "x_test", "y_test"):
            archive.writestr(f"{key}.npy", header.getvalue())
    with pytest.raises(DatasetError, match=r"bomb.npz: array 'x_train' declares shape"):
        load_npz(path)


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"x_train,y_train\n1,2\n", "it is not a zip file"),
        (b"\x93NUMPY\x01\x00", "it is a .npy array"),
        (b"", "it is not a zip file"),
    ],
)
def test_non_npz_dataset_file_gets_a_plain_message(tmp_path, capsys, content, fragment):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    status, _, err = run(capsys, "compare", "--dataset", path, "-q")
    assert_one_line_error(status, err, "data.csv is not a .npz archive", fragment)
    assert "allow_pickle" not in err


def _record_dir(tmp_path, record_text, csv_text=None):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "record.json").write_text(record_text)
    if csv_text is not None:
        (folder / "metrics.csv").write_text(csv_text)
    return folder


@pytest.mark.parametrize(
    "record_text",
    [
        "[" * 100_000 + "]" * 100_000,  # deep nesting
        '{"format": "gradstep-lab-record", "version": ' + "9" * 5000 + "}",
        "\udcff",
    ],
)
def test_damaged_record_gives_the_documented_error(tmp_path, capsys, record_text):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "record.json").write_bytes(record_text.encode("utf-8", "surrogateescape"))
    with pytest.raises(LabError, match="record.json"):
        read_record(folder / "record.json")
    status, _, err = run(capsys, "plot", folder)
    assert_one_line_error(status, err, "record.json")


def test_damaged_metrics_csv_is_a_named_error(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_bytes(b"optimizer,seed\x00,epoch\n")
    with pytest.raises(LabError, match="metrics.csv"):
        read_csv(path)
    header = "optimizer,seed,epoch,loss,acc,val_loss,val_acc,seconds,lr\n"
    path.write_text(header + "sgd," + "9" * 5000 + ",1,1,1,1,1,1,1\n")
    with pytest.raises(LabError, match="metrics.csv, line 2"):
        read_csv(path)


@pytest.mark.parametrize(
    "suffix, text, fragment",
    [
        (".json", "[" * 100_000, "not valid JSON"),
        (".json", '{"epochs": ' + "1" * 5000 + "}", "not valid JSON"),
        (".yaml", "a: [" * 5000, "not valid YAML"),
    ],
)
def test_damaged_config_files_name_the_file(tmp_path, suffix, text, fragment):
    path = tmp_path / f"lab{suffix}"
    path.write_text(text)
    with pytest.raises(LabError, match=fragment) as info:
        load_config(path, ["epochs"])
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "config, fragment",
    [
        ({"epochs": 10**400}, "--epochs must be an integer <= 2**53"),
        ({"dropout": 10**400}, "--dropout must be a number in [0, 1), got an integer"),
        (
            {"optimizers": [{"name": "adam", "lr": 10**400}]},
            "setting 'lr' must be a finite number that fits in a float",
        ),
    ],
)
def test_integers_too_large_for_a_float_name_the_argument(
    tmp_path, capsys, config, fragment
):
    path = tmp_path / "big.json"
    path.write_text(json.dumps(config))
    status, _, err = run(capsys, "compare", "--config", path, "-q")
    assert_one_line_error(status, err, fragment)
    status, _, err = run(capsys, "compare", "-o", "adam:lr=1" + "0" * 400, "-q")
    assert_one_line_error(status, err, "optimizer 'adam': setting 'lr'")
    status, _, err = run(capsys, "compare", "--epochs", "1" + "0" * 400, "-q")
    assert_one_line_error(status, err, "--epochs must be an integer")


def test_damaged_paths_npz_is_a_named_error(tmp_path, capsys):
    status, _, err = run(
        capsys,
        "trajectories",
        "-f",
        "quadratic",
        "-o",
        "sgd",
        "--steps",
        "5",
        "--out",
        tmp_path / "t",
    )
    assert status == 0, err
    paths = tmp_path / "t" / "paths.npz"
    raw = bytearray(paths.read_bytes())
    raw[40:80] = bytes(40)
    paths.write_bytes(bytes(raw))
    status, _, err = run(capsys, "plot", tmp_path / "t")
    assert_one_line_error(status, err, "paths.npz")
    paths.write_bytes(b"\x93NUMPY not an archive")
    status, _, err = run(capsys, "plot", tmp_path / "t")
    assert_one_line_error(status, err, "paths.npz is not a paths file of this run")


def test_gzip_idx_declaring_a_gigabyte_it_does_not_hold_reads_only_what_is_there(
    tmp_path,
):
    count = (1 << 30) - 16  # allowed by the size cap, never allocated up front
    path = tmp_path / "images.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 1]) + struct.pack(">I", count)))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, "-c", _LIMITED, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "images.gz is truncated" in done.stdout, done.stdout
