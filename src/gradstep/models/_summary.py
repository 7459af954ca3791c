"""``model.summary()`` in Keras 2.2.4's layout (line length 65, columns at .45/.85/1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["print_summary"]


def _shape(shape: Any) -> str:
    return "multiple" if shape is None else str(tuple(shape))


def print_summary(
    model: Any,
    line_length: int | None = None,
    positions: Any = None,
    print_fn: Callable[[str], None] | None = None,
) -> None:
    if not model.built:
        raise ValueError(
            "This model has not yet been built. Build the model first by calling build() "
            "or calling fit() with some data. Or specify input_shape or batch_input_shape "
            "in the first layer for automatic build."
        )
    print_fn = print_fn or print
    line_length = line_length or 65
    positions = positions or [0.45, 0.85, 1.0]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]

    def row(fields: list[str]) -> None:
        line = ""
        for field, stop in zip(fields, positions):
            line = (line + field)[:stop]
            line += " " * (stop - len(line))
        print_fn(line)

    print_fn("_" * line_length)
    row(["Layer (type)", "Output Shape", "Param #"])
    print_fn("=" * line_length)
    for i, layer in enumerate(model.layers):
        row(
            [
                f"{layer.name} ({type(layer).__name__})",
                _shape(layer.output_shape),
                str(layer.count_params()),
            ]
        )
        print_fn(("=" if i == len(model.layers) - 1 else "_") * line_length)
    total = model.count_params()
    trainable = sum(w.size for w in model.trainable_weights)
    print_fn(f"Total params: {total:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {total - trainable:,}")
    print_fn("_" * line_length)
