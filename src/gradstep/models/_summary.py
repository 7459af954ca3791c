"""``model.summary()`` in Keras 2.2.4's layout: line length 65, columns at .45/.85/1 for
Sequential-like models; 98 with a 'Connected to' column at .33/.55/.67/1 for the other
functional models."""

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
    nodes_by_depth = getattr(model, "_nodes_by_depth", None)
    sequential_like = nodes_by_depth is None or all(
        len(nodes) == 1 and len(nodes[0].inputs) <= 1
        for nodes in nodes_by_depth.values()
    )
    if sequential_like:
        line_length = line_length or 65
        positions = positions or [0.45, 0.85, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
    else:
        line_length = line_length or 98
        positions = positions or [0.33, 0.55, 0.67, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]

    def row(fields: list[str]) -> None:
        line = ""
        for field, stop in zip(fields, positions):
            line = (line + field)[:stop]
            line += " " * (stop - len(line))
        print_fn(line)

    print_fn("_" * line_length)
    row(header)
    print_fn("=" * line_length)
    for i, layer in enumerate(model.layers):
        fields = [
            f"{layer.name} ({type(layer).__name__})",
            _shape(layer.output_shape),
            str(layer.count_params()),
        ]
        if sequential_like:
            row(fields)
        else:
            node = model._node_of.get(id(layer))
            links = (
                []
                if node is None
                else [
                    f"{t.node.layer.name}[{model._ref(t)[1]}][{t.index}]"
                    for t in node.inputs
                ]
            )
            row([*fields, links[0] if links else ""])
            for link in links[1:]:
                row(["", "", "", link])
        print_fn(("=" if i == len(model.layers) - 1 else "_") * line_length)
    total = model.count_params()
    trainable = sum(w.size for w in model.trainable_weights)
    print_fn(f"Total params: {total:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {total - trainable:,}")
    print_fn("_" * line_length)
