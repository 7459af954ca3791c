"""The end-of-run table: final metrics per optimizer, epochs to a target accuracy, speed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .plotting import group_rows
from .records import EpochRow

__all__ = ["summarize", "format_table", "markdown_table"]


def _stats(values: np.ndarray) -> dict[str, float]:
    with np.errstate(invalid="ignore"):
        return {
            "mean": float(np.mean(values)),
            "std": float(np.std(values)),
            "min": float(np.min(values)),
            "max": float(np.max(values)),
        }


def summarize(rows: Sequence[EpochRow], target_acc: float) -> list[dict[str, Any]]:
    """Per optimizer (in run order): final loss/acc/val_loss/val_acc over seeds (mean,
    std, min, max), the first epoch whose test accuracy reaches ``target_acc`` per seed
    (None if never), the median seconds per epoch (robust to a slow epoch) and the mean
    total over seeds; warm-up is never in these (see ``CompareResult``)."""
    summary = []
    for label, seeds in group_rows(rows).items():
        final = {
            key: _stats(np.array([s[key][-1] for s in seeds.values()]))
            for key in ("loss", "acc", "val_loss", "val_acc")
        }
        reached = []
        for series in seeds.values():
            hits = np.flatnonzero(series["val_acc"] >= target_acc)
            reached.append(int(series["epoch"][hits[0]]) if hits.size else None)
        seconds = np.concatenate([s["seconds"] for s in seeds.values()])
        totals = [float(np.sum(s["seconds"])) for s in seeds.values()]
        summary.append(
            {
                "optimizer": label,
                "seeds": sorted(seeds),
                "final": final,
                "target_acc": target_acc,
                "epochs_to_target": reached,
                "seconds_per_epoch": float(np.median(seconds)),
                "seconds_total": float(np.mean(totals)),
            }
        )
    return summary


def _cell(stats: dict[str, float], spread: bool, fmt: str) -> str:
    text = format(stats["mean"], fmt)
    return f"{text} ± {format(stats['std'], fmt)}" if spread else text


def _to_target(reached: list[int | None]) -> str:
    hits = [r for r in reached if r is not None]
    if not hits:
        return "never"
    text = f"{np.mean(hits):.3g}"
    return (
        text
        if len(hits) == len(reached)
        else f"{text} ({len(hits)}/{len(reached)} seeds)"
    )


def _rows(summary: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    spread = any(len(item["seeds"]) > 1 for item in summary)
    target = summary[0]["target_acc"] if summary else 0.0
    header = [
        "optimizer",
        "train loss",
        "train acc",
        "test loss",
        "test acc",
        f"epochs to {target:.0%} test acc",
        "s/epoch",
        "train s",
    ]
    warm = any(item.get("warmup_seconds") is not None for item in summary)
    if warm:
        header.append("warm-up s")
    body = []
    for item in summary:
        final = item["final"]
        body.append(
            [
                item["optimizer"],
                _cell(final["loss"], spread, ".4f"),
                _cell(final["acc"], spread, ".4f"),
                _cell(final["val_loss"], spread, ".4f"),
                _cell(final["val_acc"], spread, ".4f"),
                _to_target(item["epochs_to_target"]),
                f"{item['seconds_per_epoch']:.3f}",
                f"{item.get('seconds_total', float('nan')):.1f}",
            ]
            + ([_seconds(item.get("warmup_seconds"))] if warm else [])
        )
    return header, body


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def format_table(summary: list[dict[str, Any]]) -> str:
    """A plain-text table with aligned columns."""
    header, body = _rows(summary)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths))
        )
        for r in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(summary: list[dict[str, Any]]) -> str:
    """The same table in Markdown."""
    header, body = _rows(summary)
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines)
