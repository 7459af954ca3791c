"""Figures for the lab, drawn with matplotlib's object API on the Agg canvas.

matplotlib is imported only when a figure is drawn; pyplot is never used, so no global
backend is changed, no window opens and nothing calls ``show()``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._io import write_bytes_atomic
from ._errors import LabError
from .functions import TestFunction
from .records import EpochRow
from .trajectories import Path2D, legend_text

__all__ = [
    "new_figure",
    "save_figure",
    "compare_figure",
    "trajectories_figure",
    "save_animation",
    "group_rows",
]


def _matplotlib() -> Any:
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise LabError(
            'figures need matplotlib: pip install -e ".[lab]" (from a clone of gradstep)'
        ) from None
    return matplotlib, Figure, FigureCanvasAgg


def new_figure(width: float, height: float) -> Any:
    """A matplotlib ``Figure`` attached to an Agg canvas (no pyplot, no GUI)."""
    _, figure_cls, canvas_cls = _matplotlib()
    figure = figure_cls(figsize=(width, height), dpi=100, layout="constrained")
    canvas_cls(figure)
    return figure


def save_figure(figure: Any, path: str | os.PathLike[str], dpi: int = 100) -> None:
    """Render ``figure`` to ``path`` (format from the suffix: png, svg, pdf) atomically."""
    import io

    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    if fmt not in ("png", "svg", "pdf"):
        raise LabError(f"cannot write a figure as .{fmt}; use .png, .svg or .pdf")
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=dpi, metadata=_metadata(fmt))
    write_bytes_atomic(path, buffer.getvalue())


def _metadata(fmt: str) -> dict[str, Any]:
    # Without a date and with a fixed producer, the same data gives the same bytes.
    if fmt == "png":
        return {"Software": "gradstep"}
    if fmt == "pdf":
        return {"Creator": "gradstep", "CreationDate": None}
    return {"Date": None}


def colours(count: int) -> list[Any]:
    """One distinct colour per optimizer, the same in every panel and figure."""
    matplotlib, _, _ = _matplotlib()
    cmap = matplotlib.colormaps["tab10" if count <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(count)]


def group_rows(rows: Sequence[EpochRow]) -> dict[str, dict[int, dict[str, np.ndarray]]]:
    """``{label: {seed: {"epoch": ..., "loss": ..., ...}}}`` in first-seen order."""
    grouped: dict[str, dict[int, dict[str, list[float]]]] = {}
    for row in rows:
        series = grouped.setdefault(row.optimizer, {}).setdefault(row.seed, {})
        for key in ("epoch", "loss", "acc", "val_loss", "val_acc", "seconds"):
            series.setdefault(key, []).append(float(getattr(row, key)))
    return {
        label: {
            seed: {k: np.asarray(v, dtype=np.float64) for k, v in series.items()}
            for seed, series in seeds.items()
        }
        for label, seeds in grouped.items()
    }


_PANELS = (
    ("acc", "epoch", "train accuracy", "accuracy", False),
    ("loss", "epoch", "train cost", "cross-entropy (log scale)", True),
    ("val_acc", "epoch", "test accuracy", "accuracy", False),
    ("loss", "seconds", "train cost vs wall-clock", "cross-entropy (log scale)", True),
)


def _series(seeds: dict[int, dict[str, np.ndarray]], key: str, x_key: str):
    epochs = min(len(s["epoch"]) for s in seeds.values())
    values = np.stack([s[key][:epochs] for s in seeds.values()])
    if x_key == "seconds":
        # Cumulative training time (warm-up excluded), the mean over seeds.
        x = np.mean([np.cumsum(s["seconds"][:epochs]) for s in seeds.values()], axis=0)
    else:
        x = next(iter(seeds.values()))["epoch"][:epochs]
    return x, values


def compare_figure(rows: Sequence[EpochRow], title: str) -> Any:
    """The tutorial's layout: train accuracy and train cost per epoch (top), test
    accuracy per epoch and train cost against cumulative wall-clock seconds, warm-up
    excluded (bottom); one colour per optimizer. With several seeds, the mean line and a
    band from the lowest to the highest seed."""
    grouped = group_rows(rows)
    figure = new_figure(11.0, 7.5)
    axes = figure.subplots(2, 2)
    palette = colours(len(grouped))
    styles = ("-", "--", "-.", ":")
    for (key, x_key, name, ylabel, log), ax in zip(_PANELS, axes.flat):
        for index, ((label, seeds), colour) in enumerate(zip(grouped.items(), palette)):
            x, values = _series(seeds, key, x_key)
            with np.errstate(invalid="ignore"):
                mean = values.mean(axis=0)
            marker = "o" if len(x) <= 20 else None
            ax.plot(
                x,
                mean,
                color=colour,
                linestyle=styles[(index // 10) % len(styles)],
                marker=marker,
                markersize=3,
                lw=1.6,
                label=label,
            )
            if len(seeds) > 1:
                ax.fill_between(
                    x, values.min(axis=0), values.max(axis=0), color=colour, alpha=0.2
                )
        if log and _positive(ax):
            ax.set_yscale("log")
            _readable_log_ticks(ax)
        ax.set_title(name)
        ax.set_ylabel(ylabel)
        ax.set_xlabel("epoch" if x_key == "epoch" else "seconds of training")
        if x_key == "epoch":
            _integer_ticks(ax)
        ax.grid(True, which="major", alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=min(len(labels), 7),
        fontsize="small",
        frameon=False,
    )
    figure.suptitle(title)
    return figure


def _integer_ticks(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(
        MaxNLocator(integer=True, steps=[1, 2, 5, 10], min_n_ticks=2)
    )


def _readable_log_ticks(ax: Any) -> None:
    """Labels at 1, 2 and 5 times powers of ten, written as plain numbers (0.2, 0.5)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0), numticks=15))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _positive(ax: Any) -> bool:
    lines = [line.get_ydata() for line in ax.get_lines()]
    finite = [np.asarray(y, dtype=float) for y in lines]
    values = np.concatenate(finite) if finite else np.array([])
    values = values[np.isfinite(values)]
    return bool(values.size) and bool(np.all(values > 0))


def _contours(ax: Any, fn: TestFunction, resolution: int = 200) -> None:
    """Contour lines only (no fill): cheap to draw, small PNG and GIF files."""
    xs = np.linspace(*fn.xlim, resolution)
    ys = np.linspace(*fn.ylim, resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):
        z = np.array(fn.value(grid_x, grid_y), dtype=np.float64)
    finite = z[np.isfinite(z)]
    if finite.size == 0:
        return
    low, high = float(finite.min()), float(finite.max())
    if not high > low:
        return
    if low >= 0:
        # Log-spaced levels show both the valley floor and the steep walls.
        floor = max(low, high * 1e-6, 1e-12)
        levels = np.geomspace(floor, high, 20)
        z = np.where(np.isfinite(z), np.maximum(z, floor), np.nan)
    else:
        levels = np.linspace(low, high, 20)
    ax.contour(
        grid_x, grid_y, z, levels=levels, cmap="Greys_r", linewidths=0.6, alpha=0.8
    )


_MARKERS = ("o", "s", "^", "v", "D", "P", "X", "<", ">", "h")
_LINESTYLES = ("-", "--", "-.", ":")


def path_style(index: int, count: int) -> dict[str, Any]:
    """How optimizer ``index`` of ``count`` is drawn so overlapping paths stay visible:
    the earlier paths wider (drawn underneath), and each its own marker and dash."""
    widest, narrowest = 4.0, 1.2
    share = index / (count - 1) if count > 1 else 1.0
    return {
        "lw": widest - (widest - narrowest) * share,
        "linestyle": _LINESTYLES[index % len(_LINESTYLES)],
        "marker": _MARKERS[index % len(_MARKERS)],
    }


def trajectories_figure(
    functions: Sequence[TestFunction],
    paths: Sequence[Sequence[Path2D]],
    steps: int,
) -> Any:
    """One panel per function: contours, each optimizer's path in its colour, width,
    dash and marker (so paths that overlap stay visible), the start (black square) and
    the minima (star); the legend says how many steps each needed."""
    count = len(functions)
    cols = 1 if count == 1 else 2
    rows = (count + cols - 1) // cols
    figure = new_figure(6.5 * cols, 5.5 * rows)
    axes = np.atleast_1d(figure.subplots(rows, cols, squeeze=False)).ravel()
    count_paths = max(len(p) for p in paths)
    palette = colours(count_paths)
    for ax, fn, row in zip(axes, functions, paths):
        _contours(ax, fn)
        for j, (path, colour) in enumerate(zip(row, palette)):
            pts = path.points
            style = path_style(j, count_paths)
            ax.plot(
                pts[:, 0],
                pts[:, 1],
                color=colour,
                lw=style["lw"],
                linestyle=style["linestyle"],
                marker=style["marker"],
                markevery=max(1, (len(pts) - 1) // 8) if len(pts) > 1 else None,
                markersize=5,
                markerfacecolor="none",
                label=legend_text(path, fn, steps),
                zorder=2 + j,
            )
            ax.plot(
                pts[-1, 0],
                pts[-1, 1],
                style["marker"],
                color=colour,
                markersize=8,
                markeredgecolor="black",
                markeredgewidth=0.6,
                zorder=20 + j,
            )
        ax.plot(*fn.start, "ks", markersize=6)
        for minimum in fn.minima:
            ax.plot(*minimum, "*", color="gold", markeredgecolor="black", markersize=14)
        ax.set_xlim(*fn.xlim)
        ax.set_ylim(*fn.ylim)
        ax.set_title(f"{fn.name}: {fn.expression}", fontsize="small")
        ax.legend(fontsize="x-small", loc="best")
    for ax in axes[count:]:
        ax.set_visible(False)
    return figure


def _gif_palette(frame: Any, exact: Sequence[Any]) -> Any:
    """A 256-colour palette image: every optimizer's exact colour, black, white and the
    minimum's gold first, then the frame's own most common colours (median cut)."""
    from PIL import Image

    fixed = [tuple(int(round(c * 255)) for c in rgba[:3]) for rgba in exact]
    fixed += [(0, 0, 0), (255, 255, 255), (255, 215, 0)]
    rest = frame.quantize(colors=256 - len(fixed), method=Image.Quantize.MEDIANCUT)
    extra = rest.getpalette()[: 3 * (256 - len(fixed))]
    flat = [v for rgb in fixed for v in rgb] + extra
    flat += [0] * (768 - len(flat))
    palette = Image.new("P", (1, 1))
    palette.putpalette(flat)
    return palette


def save_animation(
    functions: Sequence[TestFunction],
    paths: Sequence[Sequence[Path2D]],
    steps: int,
    path: str | os.PathLike[str],
    frames: int = 60,
    fps: int = 12,
    dpi: int = 60,
) -> None:
    """An animated GIF of the paths growing step by step, written atomically.

    The contours are drawn once; each frame restores them and redraws only the paths
    (blitting), and Pillow (a matplotlib dependency) writes the frames as a GIF."""
    from PIL import Image

    figure = trajectories_figure(functions, paths, steps)
    figure.set_dpi(dpi)
    moving = []
    for ax, row in zip(figure.axes, paths):
        pairs = ax.get_lines()[: 2 * len(row)]
        for line in pairs:
            line.set_animated(True)
        moving.append((ax, row, pairs))
    canvas = figure.canvas
    canvas.draw()
    backgrounds = [canvas.copy_from_bbox(ax.bbox) for ax, _, _ in moving]
    cuts = np.unique(np.linspace(1, steps + 1, max(2, frames)).astype(int))
    images = []
    for cut in cuts:
        for (ax, row, pairs), background in zip(moving, backgrounds):
            canvas.restore_region(background)
            for path_, trail, head in zip(row, pairs[::2], pairs[1::2]):
                shown = path_.points[: min(cut, len(path_.points))]
                trail.set_data(shown[:, 0], shown[:, 1])
                head.set_data(shown[-1:, 0], shown[-1:, 1])
                ax.draw_artist(trail)
                ax.draw_artist(head)
            canvas.blit(ax.bbox)
        rgba = np.asarray(canvas.buffer_rgba())
        images.append(Image.fromarray(rgba[..., :3].copy()))
    # One palette for every frame, taken from the last (which shows every path), so each
    # optimizer keeps its colour throughout.
    reference = _gif_palette(images[-1], colours(max(len(r) for r in paths)))
    images = [
        frame.quantize(palette=reference, dither=Image.Dither.NONE) for frame in images
    ]
    import io

    buffer = io.BytesIO()
    images[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=int(1000 / fps),
        loop=0,
        optimize=True,
    )
    write_bytes_atomic(path, buffer.getvalue())
