"""``gradstep trajectories``: optimizer paths on 2-D test functions, PNG (and GIF)."""

from __future__ import annotations

import argparse
import datetime
from typing import Any

import numpy as np

from ..lab._errors import LabError
from ..lab.functions import BUILTIN, TestFunction, get_function, user_function
from ..lab.options import to_bool, to_float, to_int, to_pair, to_str
from ..lab.outdir import OutputDir, free_folder
from ..lab.plotting import save_animation, save_figure, trajectories_figure
from ..lab.records import RECORD_NAME, write_json
from ..lab.specs import OptimizerSpec, default_specs, make_spec, resolve_specs
from ..lab.trajectories import Path2D, legend_text, run_all
from ._common import merged_options, versions
from ._parser import TRAJECTORY_DEFAULTS

__all__ = ["run", "FIGURE", "ANIMATION", "PATHS", "save_paths", "load_paths"]

FIGURE = "trajectories.png"
ANIMATION = "trajectories.gif"
PATHS = "paths.npz"


def _functions(o: dict[str, Any]) -> list[TestFunction]:
    names = o["functions"]
    if names is not None and not isinstance(names, list):
        names = [names]
    chosen: list[TestFunction] = []
    for item in names or []:
        for name in str(item).split(","):
            if name.strip():
                chosen.append(get_function(name.strip()))
    if o["expr"] is not None:
        if o["start"] is None:
            raise LabError("--expr needs --start X,Y (e.g. --start=-1.5,2)")
        chosen.append(
            user_function(
                to_str("expr", o["expr"]),
                to_pair("start", o["start"]),
                to_pair("xlim", o["xlim"]) if o["xlim"] is not None else None,
                to_pair("ylim", o["ylim"]) if o["ylim"] is not None else None,
                to_pair("minimum", o["minimum"]) if o["minimum"] is not None else None,
            )
        )
    else:
        for key in ("start", "xlim", "ylim", "minimum"):
            if o[key] is not None:
                raise LabError(f"--{key} applies to --expr only")
    if not chosen:
        chosen = list(BUILTIN.values())
    seen = set()
    for fn in chosen:
        if fn.name in seen:
            raise LabError(f"function {fn.name!r} is listed twice")
        seen.add(fn.name)
    return chosen


def _with_lr(specs: list[OptimizerSpec], lr: float | None) -> list[OptimizerSpec]:
    if lr is None:
        return specs
    out = []
    for spec in specs:
        if "lr" in spec.settings or "learning_rate" in spec.settings:
            out.append(spec)
        else:
            out.append(make_spec(spec.name, {**spec.settings, "lr": lr}))
    return out


def save_paths(path: Any, paths: list[list[Path2D]]) -> None:
    """Every path's points as ``p{i}_{j}`` arrays (function i, optimizer j), no pickle."""
    arrays = {
        f"p{i}_{j}": p.points for i, row in enumerate(paths) for j, p in enumerate(row)
    }
    np.savez_compressed(path, **arrays)


def _config_keys(args: argparse.Namespace) -> set[str]:
    from ..lab.options import load_config

    path = getattr(args, "config", None)
    return set(load_config(path, TRAJECTORY_DEFAULTS)) if path else set()


def load_paths(path: Any, record: dict[str, Any]) -> list[list[Path2D]]:
    """The paths of a trajectories run, from its ``paths.npz`` and ``record.json``;
    ``LabError`` naming the file for a missing, damaged or mismatched one (memory stays
    bounded whatever the archive declares)."""
    from .._npz import read_arrays

    try:
        pairs = [
            (i, j, fn, entry)
            for i, (fn, result) in enumerate(
                zip(record["functions"], record["results"])
            )
            for j, entry in enumerate(result)
        ]
    except (KeyError, TypeError) as exc:
        raise LabError(f"the record of {path} is malformed ({exc})") from None
    keys = [f"p{i}_{j}" for i, j, _, _ in pairs]
    arrays = read_arrays(path, keys, LabError, what="a paths file of this run")
    out: list[list[Path2D]] = [[] for _ in record["results"]]
    for (i, _j, fn, entry), key in zip(pairs, keys):
        points = arrays[key]
        if points.ndim != 2 or points.shape[1] != 2 or points.dtype.kind not in "fiu":
            raise LabError(
                f"{path}: array {key} has shape {points.shape} and dtype {points.dtype}; "
                "expected (steps, 2) numbers"
            )
        try:
            out[i].append(
                Path2D(
                    fn["name"],
                    entry["label"],
                    np.asarray(points, dtype=np.float64),
                    entry["reached_at"],
                    entry["diverged_at"],
                )
            )
        except (KeyError, TypeError) as exc:
            raise LabError(f"the record of {path} is malformed ({exc})") from None
    return out


def run(args: argparse.Namespace, command: str) -> int:
    """Run ``gradstep trajectories``; returns the exit status."""
    o = merged_options(args, TRAJECTORY_DEFAULTS)
    functions = _functions(o)
    items = o["optimizers"]
    if items is not None and not isinstance(items, list):
        items = [items]
    lr = to_float("lr", o["lr"], 0.0, 1e6) if o["lr"] is not None else None
    resolved = resolve_specs(items) if items else default_specs()
    scheduled = [s.label for s in resolved if s.schedule is not None]
    if scheduled:
        raise LabError(
            f"optimizer {scheduled[0]!r}: learning-rate schedules are per epoch and apply "
            "to gradstep compare; trajectories take a fixed lr (or Keras's decay=)"
        )
    specs = _with_lr(resolved, lr)
    steps = to_int("steps", o["steps"])
    if steps > 1_000_000:
        raise LabError(f"--steps must be at most 1000000, got {steps}")
    tol = to_float("tol", o["tol"], 0.0, 1e6)
    animate = to_bool("animate", o["animate"])
    frames = to_int("frames", o["frames"], low=2)
    target, force = to_str("out", o["out"]), to_bool("force", o["force"])
    if not hasattr(args, "out") and "out" not in _config_keys(args) and not force:
        target = free_folder(target)  # the default folder: a new numbered one
    out = OutputDir(target, force=force)
    try:
        paths = run_all(functions, specs, steps, tol)
        record = {
            "kind": "trajectories",
            "command": command,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds"
            ),
            "versions": versions("matplotlib", "pillow"),
            "steps": steps,
            "tol": tol,
            "functions": [fn.to_dict() for fn in functions],
            "optimizers": [{"label": s.label, **s.serialized()} for s in specs],
            "results": [
                [
                    {
                        "label": p.label,
                        "reached_at": p.reached_at,
                        "diverged_at": p.diverged_at,
                        "final_point": p.points[-1].tolist(),
                        "final_value": p.final_value(fn),
                    }
                    for p in row
                ]
                for fn, row in zip(functions, paths)
            ],
            "files": {"figure": FIGURE, "paths": PATHS}
            | ({"animation": ANIMATION} if animate else {}),
        }
        save_paths(out.path(PATHS), paths)
        write_json(out.path(RECORD_NAME), record)
        save_figure(trajectories_figure(functions, paths, steps), out.path(FIGURE))
        if animate:
            save_animation(functions, paths, steps, out.path(ANIMATION), frames=frames)
        final = out.commit()
    except BaseException:
        out.discard()
        raise
    for fn, row in zip(functions, paths):
        print(f"{fn.name}: {fn.expression}, start {fn.start}")
        for p in row:
            print("  " + legend_text(p, fn, steps))
    files = [FIGURE, PATHS, RECORD_NAME] + ([ANIMATION] if animate else [])
    print(f"wrote {final}/ ({', '.join(files)})")
    return 0
