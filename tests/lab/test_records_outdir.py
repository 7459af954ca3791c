"""Run records round-trip exactly; output folders appear whole or not at all."""

from __future__ import annotations

import json
import math

import pytest

from gradstep.lab._errors import LabError
from gradstep.lab.outdir import OutputDir
from gradstep.lab.records import EpochRow, read_csv, read_record, write_csv, write_json


def _rows():
    values = [0.1, 1 / 3, 2.0**-30, 1e300, math.nextafter(1.0, 2.0), float("nan")]
    return [
        EpochRow("adam(lr=0.001)", seed, epoch, v, 1 - v, v * 3, 0.5, 0.01 * epoch)
        for seed in (0, 7)
        for epoch, v in enumerate(values, start=1)
    ]


def test_csv_round_trips_every_float_exactly(tmp_path):
    rows = _rows()
    write_csv(tmp_path / "m.csv", rows)
    back = read_csv(tmp_path / "m.csv")
    assert len(back) == len(rows)
    for a, b in zip(rows, back):
        for key in ("optimizer", "seed", "epoch"):
            assert getattr(a, key) == getattr(b, key)
        for key in ("loss", "acc", "val_loss", "val_acc", "seconds"):
            x, y = getattr(a, key), getattr(b, key)
            assert (x == y) or (math.isnan(x) and math.isnan(y))


def test_csv_errors(tmp_path):
    (tmp_path / "m.csv").write_text("a,b\n")
    with pytest.raises(LabError, match="not a gradstep metrics file"):
        read_csv(tmp_path / "m.csv")
    write_csv(tmp_path / "m.csv", _rows()[:1])
    text = (tmp_path / "m.csv").read_text().replace("0.1", "x")
    (tmp_path / "m.csv").write_text(text)
    with pytest.raises(LabError, match="line 2"):
        read_csv(tmp_path / "m.csv")


def test_json_record_round_trip_and_standard_json(tmp_path):
    record = {"kind": "compare", "summary": [{"loss": float("nan"), "acc": 0.1}]}
    write_json(tmp_path / "r.json", record)
    text = (tmp_path / "r.json").read_text()
    assert "NaN" not in text
    back = read_record(tmp_path / "r.json")
    assert back["summary"] == [{"loss": None, "acc": 0.1}]
    assert json.loads(text) == back
    (tmp_path / "x.json").write_text('{"format": "other"}')
    with pytest.raises(LabError, match="not a gradstep lab record"):
        read_record(tmp_path / "x.json")
    with pytest.raises(LabError, match="not found"):
        read_record(tmp_path / "none.json")


def _staging_dirs(parent):
    return [p.name for p in parent.iterdir() if p.name.startswith(".")]


def test_output_dir_commit_and_discard(tmp_path):
    out = OutputDir(tmp_path / "run")
    out.path("record.json").write_text("{}")
    assert not (tmp_path / "run").exists()
    assert out.commit() == tmp_path / "run"
    assert (tmp_path / "run" / "record.json").read_text() == "{}"
    assert _staging_dirs(tmp_path) == []
    with pytest.raises(LabError, match="already exists; pass --force"):
        OutputDir(tmp_path / "run")
    failed = OutputDir(tmp_path / "run", force=True)
    failed.path("record.json").write_text("new")
    failed.discard()
    assert (tmp_path / "run" / "record.json").read_text() == "{}"
    assert _staging_dirs(tmp_path) == []
    with OutputDir(tmp_path / "run", force=True) as replaced:
        replaced.path("record.json").write_text("new")
    assert (tmp_path / "run" / "record.json").read_text() == "new"
    assert _staging_dirs(tmp_path) == []


def test_output_dir_context_discards_on_error(tmp_path):
    with pytest.raises(RuntimeError), OutputDir(tmp_path / "runs" / "a") as out:
        out.path("half.csv").write_text("x")
        raise RuntimeError("boom")
    assert list((tmp_path / "runs").iterdir()) == []


def test_force_never_replaces_a_foreign_folder_or_file(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(
        LabError, match="holds no record.json, so it is not a gradstep run"
    ):
        OutputDir(tmp_path / "mine", force=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(LabError, match="exists and is not a folder"):
        OutputDir(tmp_path / "file", force=True)
    with pytest.raises(LabError, match="cannot write output folder .*file/sub"):
        OutputDir(tmp_path / "file" / "sub")
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"
