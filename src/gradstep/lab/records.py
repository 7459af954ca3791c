"""The files a lab run leaves: per-epoch metrics (CSV), the run record (JSON).

Floats are written with ``repr``, so reading a file back gives the very numbers training
produced. Both files are written atomically (temporary file, then ``os.replace``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._io import write_text_atomic
from ._errors import LabError

__all__ = [
    "METRICS",
    "CSV_COLUMNS",
    "EpochRow",
    "write_csv",
    "read_csv",
    "write_json",
    "read_record",
    "json_safe",
    "RECORD_NAME",
    "METRICS_NAME",
    "FIGURE_NAME",
    "REPORT_NAME",
]

METRICS = ("loss", "acc", "val_loss", "val_acc")
CSV_COLUMNS = ("optimizer", "seed", "epoch", *METRICS, "seconds", "lr")
OLD_CSV_COLUMNS = CSV_COLUMNS[:-1]  # before the learning-rate column
MAX_FILE_BYTES = 1 << 28
"""The largest record or metrics file ``gradstep plot`` reads."""
RECORD_NAME = "record.json"
METRICS_NAME = "metrics.csv"
FIGURE_NAME = "compare.png"
REPORT_NAME = "report.md"
RECORD_FORMAT = "gradstep-lab-record"
RECORD_VERSION = 1


@dataclass(frozen=True)
class EpochRow:
    """One epoch of one optimizer with one seed: the History values Keras reports (loss,
    acc: running means over the epoch's batches; val_*: on the test split afterwards) and
    the wall-clock seconds the epoch took (training and test evaluation; one-off warm-up
    such as kernel compilation is excluded and recorded separately), and the learning
    rate the epoch ran with."""

    optimizer: str
    seed: int
    epoch: int
    loss: float
    acc: float
    val_loss: float
    val_acc: float
    seconds: float
    lr: float = math.nan


def write_csv(path: str | os.PathLike[str], rows: list[EpochRow]) -> None:
    """The per-epoch metrics, one row per (optimizer, seed, epoch)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [row.optimizer, row.seed, row.epoch]
            + [repr(float(getattr(row, key))) for key in (*METRICS, "seconds", "lr")]
        )
    write_text_atomic(path, buffer.getvalue())


def read_csv(path: str | os.PathLike[str]) -> list[EpochRow]:
    """The rows of a ``metrics.csv``; ``LabError`` naming the line when malformed."""
    path = Path(path)
    text = _read_text(path)
    try:
        return _parse_csv(path, text)
    except csv.Error as exc:
        raise LabError(f"{path} is not a valid CSV file ({exc})") from None


def _read_text(path: Path) -> str:
    """A small UTF-8 text file's contents; ``LabError`` naming it otherwise."""
    try:
        if path.is_file() and path.stat().st_size > MAX_FILE_BYTES:
            raise LabError(
                f"{path} is larger than {MAX_FILE_BYTES} bytes; not a lab file"
            )
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LabError(f"{path} not found: is this a gradstep run folder?") from None
    except OSError as exc:
        raise LabError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise LabError(f"{path} is not UTF-8 text; the file is damaged") from None


def _parse_csv(path: Path, text: str) -> list[EpochRow]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    columns = tuple(header or ())
    if columns not in (CSV_COLUMNS, OLD_CSV_COLUMNS):
        raise LabError(
            f"{path} is not a gradstep metrics file (expected columns {CSV_COLUMNS})"
        )
    rows = []
    for line, values in enumerate(reader, start=2):
        if len(values) != len(columns):
            raise LabError(f"{path}, line {line}: expected {len(columns)} fields")
        try:
            rows.append(
                EpochRow(
                    values[0], int(values[1]), int(values[2]), *map(float, values[3:])
                )
            )
        except (ValueError, OverflowError) as exc:
            raise LabError(f"{path}, line {line}: {exc}"[:300]) from None
    return rows


def json_safe(value: Any) -> Any:
    """``value`` with non-finite floats replaced by None, so the JSON is standard."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def write_json(path: str | os.PathLike[str], record: dict[str, Any]) -> None:
    """The run record, with its format marker, as indented standard JSON."""
    data = {"format": RECORD_FORMAT, "version": RECORD_VERSION, **record}
    text = json.dumps(json_safe(data), indent=2, allow_nan=False) + "\n"
    write_text_atomic(path, text)


def read_record(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A record written by ``write_json``; ``LabError`` if missing or not one."""
    path = Path(path)
    text = _read_text(path)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError, MemoryError) as exc:
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise LabError(f"{path} is not valid JSON ({detail})") from None
    if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
        raise LabError(f"{path} is not a gradstep lab record")
    if data.get("version") != RECORD_VERSION:
        raise LabError(
            f"{path} is a version {data.get('version')} record; this gradstep reads "
            f"version {RECORD_VERSION}"
        )
    return data
