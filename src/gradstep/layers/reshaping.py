"""Keras 2.2's shape layers: ``Reshape``, ``Permute``, ``RepeatVector``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import LAYERS, Layer, _as_shape

__all__ = ["Reshape", "Permute", "RepeatVector"]


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


@LAYERS.register("Reshape")
class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (one entry may be -1: inferred)."""

    def __init__(self, target_shape: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        try:
            dims = tuple(target_shape)
        except TypeError:
            raise ValueError(
                f"Reshape target_shape must be a tuple of ints, got {target_shape!r}"
            ) from None
        unknown = [d for d in dims if d == -1]
        rest = tuple(d for d in dims if d != -1)
        if len(unknown) > 1:
            raise ValueError("Can only specify one unknown dimension.")
        _as_shape(rest, "Reshape target_shape")
        self.target_shape = tuple(int(d) for d in dims)

    def compute_output_shape(self, input_shape):
        known = [d for d in self.target_shape if d != -1]
        size = int(np.prod(known, dtype=np.int64))
        rest = input_shape[1:]
        if any(d is None for d in rest):
            return (
                input_shape[0],
                *(None if d == -1 else d for d in self.target_shape),
            )
        original = int(np.prod(rest, dtype=np.int64))
        if -1 in self.target_shape:
            if size == 0 or original % size:
                raise ValueError(
                    "total size of new array must be unchanged: cannot reshape "
                    f"{tuple(rest)} to {self.target_shape}"
                )
            fill = original // size
            return (
                input_shape[0],
                *(fill if d == -1 else d for d in self.target_shape),
            )
        if size != original:
            raise ValueError(
                "total size of new array must be unchanged: cannot reshape "
                f"{tuple(rest)} to {self.target_shape}"
            )
        return (input_shape[0], *self.target_shape)

    def forward(self, x, training):
        self._shape = x.shape
        return x.reshape((x.shape[0], *self.target_shape))

    def backward(self, dy, need_dx, activated=True):
        return dy.reshape(self._shape) if need_dx else None

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config


@LAYERS.register("Permute")
class Permute(Layer):
    """Permutes the axes after the batch axis: ``dims`` is a permutation of 1..n."""

    def __init__(self, dims: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        try:
            dims = tuple(int(d) for d in dims)
        except (TypeError, ValueError):
            raise ValueError(
                f"Permute dims must be a tuple of ints, got {dims!r}"
            ) from None
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(
                f"Invalid permutation `dims` for Permute Layer: {dims}. The set of "
                "indices in `dims` must be consecutive and start from 1."
            )
        self.dims = dims

    def compute_output_shape(self, input_shape):
        if len(input_shape) != len(self.dims) + 1:
            raise ValueError(
                f"Permute dims {self.dims} need inputs of {len(self.dims) + 1} "
                f"dimensions, got shape {input_shape}"
            )
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def forward(self, x, training):
        return np.transpose(x, (0, *self.dims))

    def backward(self, dy, need_dx, activated=True):
        if not need_dx:
            return None
        return np.transpose(dy, np.argsort((0, *self.dims)))

    def get_config(self):
        config = super().get_config()
        config["dims"] = list(self.dims)
        return config


@LAYERS.register("RepeatVector")
class RepeatVector(Layer):
    """(N, d) to (N, n, d): each sample repeated ``n`` times."""

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n = _positive_int(n, "RepeatVector n")

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(
                f"RepeatVector expects inputs of 2 dimensions, got shape {input_shape}"
            )
        return (input_shape[0], self.n, input_shape[1])

    def forward(self, x, training):
        y = self.buffer("y", (x.shape[0], self.n, x.shape[1]), x.dtype)
        y[...] = x[:, None, :]
        return y

    def backward(self, dy, need_dx, activated=True):
        if not need_dx:
            return None
        return np.sum(dy, axis=1, out=self.buffer("dx", (dy.shape[0], dy.shape[2])))

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config
