"""Symbolic tensors of the functional API: what ``Input()`` and ``layer(tensor)`` return.

A ``Tensor`` holds no data: its shape (batch axis first, None) and the ``Node`` (one call
of a layer) that produced it. ``gradstep.models.Model(inputs, outputs)`` walks the nodes
back from the outputs to find the layers and the order to run them in.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Tensor", "Node"]


class Node:
    """One call of ``layer`` on ``inputs`` (Tensors); ``outputs`` are the Tensors it made.
    ``multi``: the layer was given a list (its forward then takes a list)."""

    def __init__(self, layer: Any, inputs: list[Tensor], multi: bool) -> None:
        self.layer = layer
        self.inputs = inputs
        self.multi = multi
        self.outputs: list[Tensor] = []


class Tensor:
    """A symbolic tensor: ``shape`` (batch axis first, None) and the node that made it."""

    def __init__(self, shape: tuple[int | None, ...], node: Node, index: int) -> None:
        self.shape = tuple(shape)
        self.node = node
        self.index = index
        name = getattr(node.layer, "name", "tensor")
        self.name = f"{name}/output:{index}" if index else f"{name}/output"

    @property
    def _keras_shape(self) -> tuple[int | None, ...]:
        return self.shape

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<Tensor {self.name} shape={self.shape}>"
