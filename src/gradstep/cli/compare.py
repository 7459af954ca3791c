"""``gradstep compare``: train, then write the figure, CSV, JSON record and report."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from .._io import write_text_atomic
from ..lab._errors import LabError
from ..lab.compare import CompareSettings, run_compare
from ..lab.data import load_lab_data
from ..lab.model import LOSS, describe_mlp
from ..lab.options import to_bool, to_float, to_int, to_int_list, to_str
from ..lab.outdir import OutputDir, free_folder
from ..lab.plotting import compare_figure, save_figure
from ..lab.progress import Progress
from ..lab.records import (
    FIGURE_NAME,
    METRICS_NAME,
    RECORD_NAME,
    REPORT_NAME,
    write_csv,
    write_json,
)
from ..lab.report import DISPLAY_NAMES, markdown_report
from ..lab.specs import default_specs, resolve_specs
from ..lab.summary import format_table, summarize
from ..lab.tune import GRID_EXPONENTS, tune_learning_rates
from ._common import merged_options, versions
from ._parser import COMPARE_DEFAULTS

__all__ = ["run"]

FAIRNESS = (
    "Every optimizer starts from the same initial weights (one seeded model's weights, "
    "copied with set_weights) and sees the same batches in the same order (a permutation "
    "from numpy.random.default_rng([seed, epoch]) each epoch, fit with shuffle=False)."
)


def _checked(options: dict[str, Any]) -> dict[str, Any]:
    o = dict(options)
    o["dataset"] = to_str("dataset", o["dataset"])
    for key in ("data_dir", "download_url", "sha256", "out"):
        if o[key] is not None:
            o[key] = to_str(key, o[key])
    for key in ("download", "force", "quiet"):
        o[key] = to_bool(key, o[key])
    o["epochs"] = to_int("epochs", o["epochs"])
    o["batch_size"] = to_int("batch_size", o["batch_size"])
    hidden = o["hidden"]
    o["hidden"] = (
        [] if hidden in (0, "0", "", []) else to_int_list("hidden", hidden, low=1)
    )
    o["activation"] = to_str("activation", o["activation"])
    o["kernel_initializer"] = to_str("kernel_initializer", o["kernel_initializer"])
    o["dropout"] = to_float("dropout", o["dropout"], 0.0, 1.0, open_high=True)
    o["seeds"] = to_int_list("seeds", o["seeds"])
    if len(set(o["seeds"])) != len(o["seeds"]):
        raise LabError(f"--seeds lists a seed twice: {o['seeds']}")
    o["target_acc"] = to_float("target_acc", o["target_acc"], 0.0, 1.0)
    for key in ("limit_train", "limit_test"):
        if o[key] is not None:
            o[key] = to_int(key, o[key])
    if o["dtype"] not in ("float32", "float64"):
        raise LabError(f"--dtype must be float32 or float64, got {o['dtype']!r}")
    if o["engine"] not in ("reference", "fused", "auto"):
        raise LabError(
            f"--engine must be reference, fused or auto, got {o['engine']!r}"
        )
    if o["engine"] == "fused":
        _check_numba()
    if o["tune"] not in (None, "lr"):
        raise LabError(f"--tune must be lr, got {o['tune']!r}")
    o["tune_epochs"] = (
        min(o["epochs"], 10)
        if o["tune_epochs"] is None
        else to_int("tune_epochs", o["tune_epochs"])
    )
    o["numbered"] = o["out"] is None and not o["force"]
    if o["out"] is None:
        o["out"] = f"gradstep-runs/compare-{Path(o['dataset']).stem}"
    items = o["optimizers"]
    if items is not None and not isinstance(items, list):
        items = [items]
    o["specs"] = resolve_specs(items) if items else default_specs()
    return o


INSTALL_FAST = 'pip install -e ".[fast]"'


def _check_numba() -> None:
    from ..kernels import numba_available

    if not numba_available():
        raise LabError(
            "--engine fused needs numba, which is not installed; install it with "
            f"{INSTALL_FAST} (from a clone of gradstep) or pip install numba, or use "
            "--engine reference"
        )


def run(args: argparse.Namespace, command: str) -> int:
    """Run ``gradstep compare``; returns the exit status."""
    o = _checked(merged_options(args, COMPARE_DEFAULTS))
    o["preset"] = getattr(args, "preset", None)
    if o["numbered"]:
        o["out"] = free_folder(o["out"])
    settings = CompareSettings(
        specs=o["specs"],
        epochs=o["epochs"],
        batch_size=o["batch_size"],
        seeds=o["seeds"],
        hidden=o["hidden"],
        activation=o["activation"],
        dropout=o["dropout"],
        engine=None if o["engine"] == "auto" else o["engine"],
        kernel_initializer=o["kernel_initializer"],
    )
    _check_activation(settings.activation)
    _check_initializer(settings.kernel_initializer)
    out = OutputDir(o["out"], force=o["force"])  # fails before any training
    try:
        data = load_lab_data(
            o["dataset"],
            data_dir=o["data_dir"],
            download=o["download"],
            url=o["download_url"],
            sha256=o["sha256"],
            limit_train=o["limit_train"],
            limit_test=o["limit_test"],
            dtype=o["dtype"],
            progress=None if o["quiet"] else _download_progress(),
        )
        tuning = None
        total = len(settings.specs) * len(settings.seeds) * settings.epochs
        if o["tune"] == "lr":
            total += len(settings.specs) * len(GRID_EXPONENTS) * o["tune_epochs"]
        with Progress(total, enabled=not o["quiet"]) as progress:
            if o["tune"] == "lr":
                specs, tuning = tune_learning_rates(
                    data, settings, o["tune_epochs"], _row_progress(progress, "tune")
                )
                settings = dataclasses.replace(settings, specs=specs)
            result = run_compare(data, settings, progress)
        rows = result.rows
        summary = summarize(rows, o["target_acc"])
        for item in summary:
            item["warmup_seconds"] = result.warmup_seconds.get(item["optimizer"])
        record = _record(o, settings, data, summary, command)
        record["training"]["warmup_seconds"] = result.warmup_seconds
        if tuning is not None:
            record["tuning"] = tuning
        write_csv(out.path(METRICS_NAME), rows)
        write_json(out.path(RECORD_NAME), record)
        save_figure(compare_figure(rows, _title(record)), out.path(FIGURE_NAME))
        write_text_atomic(out.path(REPORT_NAME), markdown_report(record, FIGURE_NAME))
        final = out.commit()
    except BaseException:
        out.discard()
        raise
    print(format_table(summary))
    names = ", ".join((FIGURE_NAME, METRICS_NAME, RECORD_NAME, REPORT_NAME))
    print(f"wrote {final}/ ({names})")
    return 0


def _row_progress(progress: Progress, what: str):
    def report(row: Any) -> None:
        progress.update(
            f"{what} {row.optimizer} epoch {row.epoch} loss {row.loss:.4g} "
            f"held-out acc {row.val_acc:.3f}"
        )

    return report


def _check_initializer(name: str) -> None:
    from .. import initializers

    try:
        initializers.get(name)
    except (ValueError, TypeError) as exc:
        raise LabError(f"--kernel-initializer: {exc}") from None


def _check_activation(name: str) -> None:
    try:
        from .. import activations
    except ImportError:
        return
    try:
        activations.get(name)
    except ValueError as exc:
        raise LabError(f"--activation: {exc}") from None


def _download_progress():
    state = {"shown": -1}

    def report(done: int, total: int | None) -> None:
        import sys

        megabytes = done >> 20
        if megabytes != state["shown"]:
            state["shown"] = megabytes
            of = f" of {total / 2**20:.1f}" if total else ""
            print(f"\rdownloading: {done / 2**20:.1f}{of} MiB", end="", file=sys.stderr)

    return report


def _title(record: dict[str, Any]) -> str:
    data, training = record["dataset"], record["training"]
    seeds = len(training["seeds"])
    name = DISPLAY_NAMES.get(data["name"], data["name"])
    return (
        f"{name}: {record['model']['description']}; batch {training['batch_size']}"
        + (f"; mean of {seeds} seeds, band min-max" if seeds > 1 else "")
    )


def _record(
    o: dict[str, Any],
    settings: CompareSettings,
    data: Any,
    summary: list[dict[str, Any]],
    command: str,
) -> dict[str, Any]:
    import datetime

    return {
        "kind": "compare",
        "command": command,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "versions": versions("scikit-learn", "matplotlib", "tqdm"),
        "dataset": data.info,
        "model": {
            "description": describe_mlp(
                data.input_dim,
                data.num_classes,
                settings.hidden,
                settings.activation,
                settings.dropout,
                settings.kernel_initializer,
            ),
            "input_dim": data.input_dim,
            "hidden": list(settings.hidden),
            "activation": settings.activation,
            "dropout": settings.dropout,
            "kernel_initializer": settings.kernel_initializer,
            "bias_initializer": "zeros",
            "output": {"units": data.num_classes, "activation": "softmax"},
            "loss": LOSS,
            "metrics": ["accuracy"],
        },
        "training": {
            "epochs": settings.epochs,
            "batch_size": settings.batch_size,
            "seeds": list(settings.seeds),
            "target_acc": o["target_acc"],
            "engine": o["engine"],
            "fairness": FAIRNESS,
        },
        "optimizers": [
            {
                "label": s.label,
                **s.serialized(),
                "schedule": s.schedule.text() if s.schedule else None,
            }
            for s in settings.specs
        ],
        "preset": o.get("preset"),
        "summary": summary,
        "files": {
            "figure": FIGURE_NAME,
            "metrics": METRICS_NAME,
            "report": REPORT_NAME,
        },
    }
