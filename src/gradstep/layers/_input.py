"""``Input()`` and ``InputLayer``: where a functional model's data enters."""

from __future__ import annotations

from typing import Any

from ._base import LAYERS, Layer, _as_shape, unique_name
from ._tensor import Node, Tensor

__all__ = ["Input", "InputLayer"]


@LAYERS.register("InputLayer")
class InputLayer(Layer):
    """The layer behind ``Input()``: no weights; its output is the model's input."""

    def __init__(
        self,
        input_shape: Any = None,
        batch_size: int | None = None,
        batch_input_shape: Any = None,
        dtype: Any = None,
        sparse: bool = False,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if sparse:
            raise ValueError("InputLayer: sparse inputs are not supported; pass False")
        if batch_input_shape is None:
            if input_shape is None:
                raise ValueError(
                    "An Input layer should be passed either a `batch_input_shape` or an "
                    "`input_shape`."
                )
            batch_input_shape = (batch_size, *_as_shape(input_shape, "shape"))
        super().__init__(
            batch_input_shape=tuple(batch_input_shape),
            dtype=dtype,
            name=name or unique_name("input"),
            **kwargs,
        )
        self.sparse = False
        shape = (None, *self.batch_input_shape[1:])
        self.build(shape, None)  # type: ignore[arg-type]
        node = Node(self, [], False)
        node.outputs = [Tensor(shape, node, 0)]
        self._nodes.append(node)
        self.output = node.outputs[0]

    def build_weights(self, input_shape, rngs):
        return {}

    def weight_shapes(self, input_shape):
        return {}

    def forward(self, x, training):
        return x

    def backward(self, dy, need_dx, activated=True):
        return dy if need_dx else None

    def get_config(self):
        return {
            "batch_input_shape": list(self.batch_input_shape),
            "dtype": self.dtype,
            "sparse": False,
            "name": self.name,
        }


def Input(  # noqa: N802 - Keras's name
    shape: Any = None,
    batch_shape: Any = None,
    name: str | None = None,
    dtype: Any = None,
    sparse: bool = False,
    tensor: Any = None,
) -> Tensor:
    """A symbolic input tensor: ``x = Input(shape=(784,))`` (batch axis left out)."""
    if tensor is not None:
        raise ValueError("Input(tensor=...) is not supported; pass shape")
    if shape is None and batch_shape is None:
        raise ValueError(
            "Please provide to Input either a `shape` or a `batch_shape` argument. Note "
            "that `shape` does not include the batch dimension."
        )
    layer = InputLayer(
        input_shape=None if batch_shape is not None else tuple(shape),
        batch_input_shape=None if batch_shape is None else tuple(batch_shape),
        name=name,
        dtype=dtype,
        sparse=sparse,
    )
    return layer.output
