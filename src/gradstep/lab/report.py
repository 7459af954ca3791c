"""The Markdown report of a comparison run, embedding its figure."""

from __future__ import annotations

import json
from typing import Any

from .summary import markdown_table

__all__ = ["markdown_report", "DISPLAY_NAMES"]

DISPLAY_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "digits": "digits"}


def markdown_report(record: dict[str, Any], figure_name: str) -> str:
    """A short report: command, figure, table, set-up and versions."""
    data, model, training = record["dataset"], record["model"], record["training"]
    versions = ", ".join(f"{k} {v}" for k, v in record["versions"].items())
    source = data.get("source")
    if isinstance(source, list):
        source = ", ".join(source)
    optimizer_lines = [
        f"  - `{o['label']}`: {o['class_name']} `{json.dumps(o['config'], sort_keys=True)}`"
        + (f", learning rate schedule `{o['schedule']}`" if o.get("schedule") else "")
        for o in record["optimizers"]
    ]
    digests = data.get("sha256")
    digest_lines = (
        [f"  - `{name}`: `{value}`" for name, value in digests.items()]
        if isinstance(digests, dict)
        else []
    )
    seeds = ", ".join(str(s) for s in training["seeds"])
    lines = [
        f"# Optimizer comparison on {DISPLAY_NAMES.get(data['name'], data['name'])}",
        "",
        f"`{record['command']}`",
        "",
        f"![Loss and accuracy per epoch, one colour per optimizer]({figure_name})",
        "",
        markdown_table(record["summary"]),
        "",
        f"- Data: {data['train_samples']} training and {data['test_samples']} test samples, "
        f"{data['features']} features, {data['classes']} classes ({source}).",
        f"- Model: {model['description']}; loss {model['loss']}; {data['dtype']}.",
        f"- Training: {training['epochs']} epochs, batch size {training['batch_size']}, "
        f"seeds {seeds}. {training['fairness']}",
        "- Train loss and accuracy are Keras's running means over each epoch's batches; "
        "test values are measured after each epoch. With several seeds, ± is the standard "
        "deviation and the figure's bands span the lowest to the highest seed.",
        "- Times: s/epoch is the median epoch, train s the sum of all timed epochs (the "
        "training and the test pass); warm-up s is one untimed batch on a throwaway model "
        "(kernel compilation, first-call caches) and is in neither.",
        "- Optimizers:",
        *optimizer_lines,
        *(["- Input files (sha256):", *digest_lines] if digest_lines else []),
        *_tuning_lines(record.get("tuning")),
        f"- Versions: {versions}.",
        "",
    ]
    return "\n".join(lines)


def _tuning_lines(tuning: dict[str, Any] | None) -> list[str]:
    if not tuning:
        return []
    lines = [
        f"- Learning rates tuned first (--tune lr): grid {tuning['grid']}, "
        f"{tuning['epochs_per_trial']} epochs per trial on {tuning['train_samples']} "
        f"training samples, judged by the loss on {tuning['held_out_samples']} held-out "
        f"training samples (never the test split); budget {tuning['budget_epochs']} "
        "epochs in all."
    ]
    for label, entry in tuning["optimizers"].items():
        trials = ", ".join(
            f"{t['lr']:g}: {t['held_out_loss']:.4g}" for t in entry["trials"]
        )
        lines.append(f"  - `{label}`: chose {entry['chosen_lr']:g} (lr: loss {trials})")
    return lines
