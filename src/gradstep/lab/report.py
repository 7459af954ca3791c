"""The Markdown report of a comparison run, embedding its figure."""

from __future__ import annotations

import json
from typing import Any

from .summary import markdown_table

__all__ = ["markdown_report"]


def markdown_report(record: dict[str, Any], figure_name: str) -> str:
    """A short report: command, figure, table, set-up and versions."""
    data, model, training = record["dataset"], record["model"], record["training"]
    versions = ", ".join(f"{k} {v}" for k, v in record["versions"].items())
    source = data.get("source")
    if isinstance(source, list):
        source = ", ".join(source)
    optimizer_lines = [
        f"  - `{o['label']}`: {o['class_name']} `{json.dumps(o['config'], sort_keys=True)}`"
        for o in record["optimizers"]
    ]
    seeds = ", ".join(str(s) for s in training["seeds"])
    lines = [
        f"# Optimizer comparison on {data['name']}",
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
        "- Optimizers:",
        *optimizer_lines,
        f"- Versions: {versions}.",
        "",
    ]
    return "\n".join(lines)
