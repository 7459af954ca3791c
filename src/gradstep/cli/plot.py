"""``gradstep plot RUN_DIR``: redraw a run's figure from its records, without training."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..lab._errors import LabError
from ..lab.functions import TestFunction
from ..lab.plotting import (
    compare_figure,
    save_animation,
    save_figure,
    trajectories_figure,
)
from ..lab.records import FIGURE_NAME, METRICS_NAME, RECORD_NAME, read_csv, read_record
from .compare import _title
from .trajectories import ANIMATION, FIGURE, PATHS, load_paths

__all__ = ["run"]


def run(args: argparse.Namespace, command: str) -> int:
    """Run ``gradstep plot``; returns the exit status."""
    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        raise LabError(f"{run_dir} is not a folder; give the --out folder of a run")
    record = read_record(run_dir / RECORD_NAME)
    kind = record.get("kind")
    output = Path(args.output) if args.output else None
    if output is not None:
        if output.is_dir():
            raise LabError(
                f"{output} is a folder; --output names the figure file to write "
                "(.png, .svg or .pdf)"
            )
        if output.exists() and not args.force:
            raise LabError(f"{output} already exists; pass --force to overwrite it")
        if not output.parent.is_dir():
            raise LabError(
                f"cannot write {output}: folder {output.parent} does not exist"
            )
    try:
        if kind == "compare":
            rows = read_csv(run_dir / METRICS_NAME)
            target = output or run_dir / FIGURE_NAME
            save_figure(compare_figure(rows, _title(record)), target)
            written = [target]
        elif kind == "trajectories":
            functions = [TestFunction.from_dict(f) for f in record["functions"]]
            paths = load_paths(run_dir / PATHS, record)
            target = output or run_dir / FIGURE
            save_figure(trajectories_figure(functions, paths, record["steps"]), target)
            written = [target]
            if args.animate:
                gif = target.with_suffix(".gif") if output else run_dir / ANIMATION
                save_animation(functions, paths, record["steps"], gif)
                written.append(gif)
        else:
            raise LabError(f"{run_dir / RECORD_NAME} has unknown kind {kind!r}")
    except (KeyError, TypeError, ValueError) as exc:
        raise LabError(
            f"{run_dir / RECORD_NAME} is incomplete or malformed ({exc})"
        ) from None
    except PermissionError as exc:
        raise LabError(
            f"cannot write {exc.filename or target}: permission denied"
        ) from None
    print("wrote " + ", ".join(str(p) for p in written))
    return 0
